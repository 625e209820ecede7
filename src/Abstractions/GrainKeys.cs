using System.Globalization;
using Freshet.Jobs;
using Freshet.Parameters;
using Freshet.Serving;

namespace Freshet;

/// <summary>
/// Freshet's keyed grains by what they are (<c>grains.Shard(model, 2)</c>, <c>grains.Trainer(job, 0)</c>),
/// so a key is built in one place and parses back with <see cref="ShardKey.Parse"/> / <see cref="TrainerKey.Parse"/>.
/// </summary>
public static class GrainKeys
{
    public static IEmbeddingShardGrain Shard(this IGrainFactory grains, string model, int shard) =>
        grains.GetGrain<IEmbeddingShardGrain>(new ShardKey(model, shard).ToString());

    public static IReadOnlyList<IEmbeddingShardGrain> Shards(this IGrainFactory grains, string model, int count) =>
        [.. Enumerable.Range(0, count).Select(s => grains.Shard(model, s))];

    public static IReplicaGrain Replica(this IGrainFactory grains, string model, SiloAddress silo) =>
        grains.GetGrain<IReplicaGrain>(new ReplicaKey(model, silo).ToString());

    /// <summary>A model's dense tier, keyed by the model.</summary>
    public static IDenseGrain Dense(this IGrainFactory grains, string model) => grains.GetGrain<IDenseGrain>(model);

    public static ITrainerGrain Trainer(this IGrainFactory grains, string job, int partition) =>
        grains.GetGrain<ITrainerGrain>(new TrainerKey(job, partition).ToString());

    public static IReadOnlyList<ITrainerGrain> Trainers(this IGrainFactory grains, string job, int count) =>
        [.. Enumerable.Range(0, count).Select(p => grains.Trainer(job, p))];

    /// <summary>One partition of a model's feedback loop.</summary>
    public static Feedback.IJoinerGrain Joiner(this IGrainFactory grains, string model, int joiner) =>
        grains.GetGrain<Feedback.IJoinerGrain>(new Feedback.JoinerKey(model, joiner).ToString());

    /// <summary>One shard of a model's live sequence field.</summary>
    public static Serving.ISequenceGrain Sequence(this IGrainFactory grains, string model, string field, int shard) =>
        grains.GetGrain<Serving.ISequenceGrain>(Serving.SequenceShards.Key(model, field, shard));

    /// <summary>A job's orchestrator, keyed by the job.</summary>
    public static ITrainingOrchestratorGrain Job(this IGrainFactory grains, string job) => grains.GetGrain<ITrainingOrchestratorGrain>(job);

    /// <summary>Splits <c>{name}/{index}</c> at its last '/'.</summary>
    public static bool TrySplit(string key, out string name, out int index)
    {
        var cut = key.LastIndexOf('/');
        name = cut > 0 ? key[..cut] : "";
        index = -1;
        return cut > 0 && int.TryParse(key.AsSpan(cut + 1), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }
}
