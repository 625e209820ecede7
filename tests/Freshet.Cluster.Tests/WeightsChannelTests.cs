using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Grains.Weights;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>
/// Weights reach a replica only sealed by a silo of the cluster: a message put on the weights stream's transport by
/// anyone else (here: written on the stream from silo code, as a writer holding the queue's credentials could) is
/// dropped, and the real delta that follows is served.
/// </summary>
public sealed class WeightsChannelTests
{
    [Fact]
    public async Task A_weights_message_the_silos_did_not_seal_is_dropped_and_the_next_real_delta_is_served()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "sealedweights";
        var job = h.Job("sealedweights-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1 });
        await job.StartAsync();
        await new SamplePublisher(h.Client, "sealedweights-job", 1).PublishAsync(SampleReader.Open(schema, SampleReader.SyntheticData).Read(3000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 3000);
        await job.PauseAsync();
        var first = await job.PublishAsync();
        var client = new FreshetClient(h.Client);
        var rows = new[] { ScoreRow.Of(("user", "u1"), ("item", "i1"), ("category", "c3")) };
        var before = await client.ScoreAsync(model, rows);
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await PublishingTests.WaitAsync(() => registry.TryGet(model)?.Weights == first.Weights, $"the replica holds {first.Weights}");
        var replica = registry.TryGet(model)!;
        var (applied, duplicates, refused) = (replica.Applied, replica.Duplicates, replica.Refused);

        // Unsealed, on the stream: the guard's rollback to the bare checkpoint, and the next delta with other weights.
        var template = await ServingReplica.ReadDeltaAsync(h.Checkpoints, model, first.Weights.Checkpoint, CheckpointFiles.Delta(1), CancellationToken.None);
        var forged = new WeightDelta
        {
            Model = model, Version = new WeightsVersion(first.Weights.Checkpoint, 2), SnapshotUtc = DateTime.UtcNow, Dense = template.Dense,
            Tables = [.. template.Tables.Select(t => t with { Weights = [.. t.Weights.Select(_ => 5f)] })],
        };
        var stream = h.Streams.GetStream<WeightMessage>(StreamId.Create(WeightsChannel.Namespace, model));
        await stream.OnNextAsync(new WeightMessage { Kind = WeightMessageKind.Revert, Model = model, Weights = new WeightsVersion(first.Weights.Checkpoint) });
        await stream.OnNextAsync(new WeightMessage { Kind = WeightMessageKind.Delta, Model = model, Weights = forged.Version, Payload = forged.Encode(), SnapshotUtc = forged.SnapshotUtc });
        // Sealed by the silos, then changed: the seal covers every field.
        var tampered = h.WeightsChannel.Seal(new WeightMessage { Kind = WeightMessageKind.Good, Model = model, Weights = first.Weights }) with { Weights = new WeightsVersion(first.Weights.Checkpoint) };
        await stream.OnNextAsync(tampered with { Kind = WeightMessageKind.Revert });
        // And handed to the replica directly.
        await h.WeightsReader(model, h.Cluster.Silos[0].SiloAddress).DeliverAsync(new WeightMessage { Kind = WeightMessageKind.Revert, Model = model, Weights = new WeightsVersion(first.Weights.Checkpoint) });

        // The real delta 2, sent after them on the same stream, is applied once: nothing before it moved the replica.
        var second = await job.PublishAsync();
        Assert.Equal(2, second.Weights.Delta);
        await PublishingTests.WaitAsync(() => replica.Weights == second.Weights, $"the replica applies the real {second.Weights}");
        Assert.Equal((applied + 1, duplicates, refused), (replica.Applied, replica.Duplicates, replica.Refused));
        Assert.Null(replica.Halt);
        var status = await h.Client.GetGrain<IScoringGrain>(0).GetReplicaAsync(model);
        Assert.Contains("was not sealed by a silo of this cluster and was dropped", status.Error, StringComparison.Ordinal);
        var after = await client.ScoreAsync(model, rows);
        Assert.All(after, p => Assert.Equal(second.Weights, p.Weights));
        Assert.All(before, p => Assert.Equal(first.Weights, p.Weights));
    }
}
