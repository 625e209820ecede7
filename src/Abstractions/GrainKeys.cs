using System.Globalization;
using Freshet.Jobs;
using Freshet.Parameters;
using Freshet.Serving;
using Orleans.Runtime;

namespace Freshet;

/// <summary>The key of a model's embedding shard: <c>{model}/{shard}</c>.</summary>
public readonly record struct ShardKey(string Model, int Shard)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Model}/{Shard}");

    public static ShardKey Parse(string key) =>
        GrainKeys.TrySplit(key, out var model, out var shard)
            ? new ShardKey(model, shard)
            : throw new ArgumentException($"shard key '{key}' is not '{{model}}/{{shard}}'", nameof(key));
}

/// <summary>The key of a job's trainer for one partition of its sample streams: <c>{job}/{partition}</c>.</summary>
public readonly record struct TrainerKey(string Job, int Partition)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Job}/{Partition}");

    public static TrainerKey Parse(string key) =>
        GrainKeys.TrySplit(key, out var job, out var partition)
            ? new TrainerKey(job, partition)
            : throw new ArgumentException($"trainer key '{key}' is not '{{job}}/{{partition}}'", nameof(key));
}

/// <summary>The key of a model's replica on one serving silo: <c>{model}/{silo}</c>; the grain is placed on that silo.</summary>
public readonly record struct ReplicaKey(string Model, SiloAddress Silo)
{
    public override string ToString() => $"{Model}/{Silo.ToParsableString()}";

    public static ReplicaKey Parse(string key)
    {
        var cut = key.LastIndexOf('/');
        if (cut > 0)
        {
            try
            {
                return new ReplicaKey(key[..cut], SiloAddress.FromParsableString(key[(cut + 1)..]));
            }
            catch (FormatException)
            {
            }
        }
        throw new ArgumentException($"replica key '{key}' is not '{{model}}/{{silo address}}'", nameof(key));
    }
}

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
