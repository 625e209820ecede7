using Freshet.Model.Checkpoints;
using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Grains.Weights;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>Duplicate, reordered and missing deltas reach a replica; it applies each exactly once, in order, and fills gaps from the store.</summary>
public class ReplicaDeliveryTests
{
    [Fact]
    public async Task Deltas_apply_exactly_once_in_order_and_gaps_are_filled_from_the_store()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "delivery";
        var job = h.Job("delivery-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1 });
        await job.StartAsync();
        await new SamplePublisher(h.Client, "delivery-job", 1).PublishAsync(SampleReader.Open(schema, SampleReader.SyntheticData).Read(3000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 3000);
        await job.PauseAsync();
        var published = await job.PublishAsync();
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await h.Client.GetGrain<IScoringGrain>(0).GetReplicaAsync(model);
        // Delta 1 may reach the replica twice (from the store as it loads, and on the stream); delta 2, sent on the
        // stream after it, says both copies are in: from here on every counter is the test's own doing.
        await job.PublishAsync();
        await PublishingTests.WaitAsync(() => registry.TryGet(model)?.Weights?.Delta == 2, "delta 2 applied");
        var replica = registry.TryGet(model)!;
        var baseVersion = published.Weights.Checkpoint;
        var template = await ServingReplica.ReadDeltaAsync(h.Checkpoints, model, baseVersion, CheckpointFiles.Delta(1), CancellationToken.None);
        var id = Freshet.Model.Hashing.IdHasher.Hash("c1");
        var dim = schema.Fields.Single(f => f.Name == "category").Dim!.Value;

        // Delta k sets one category row to k everywhere: the row's value tells which delta was applied last.
        WeightDelta Delta(long seq, long onBase) => new()
        {
            Model = model, Version = new WeightsVersion(onBase, seq), SnapshotUtc = DateTime.UtcNow,
            Tables = [new TableSnapshot("category", dim, 0, SparseOptimizerKind.Adagrad, [id], Enumerable.Repeat((float)seq, dim).ToArray(), [], [0], [0])],
            Dense = template.Dense,
        };
        float Row() => replica.Inspect(m => { var r = new float[dim]; m.Tables[2].TryGetRow(id, r); return r[0]; });
        var grain = h.WeightsReader(model, h.Cluster.Silos[0].SiloAddress);
        async Task Deliver(WeightDelta d, int chunkBytes = WeightDelta.MaxChunkBytes, int[]? order = null)
        {
            var chunks = WeightDelta.Chunk(d.Encode(), chunkBytes);
            foreach (var i in order ?? [.. Enumerable.Range(0, chunks.Count)])
            {
                await grain.DeliverAsync(h.WeightsChannel.Seal(new WeightMessage { Kind = WeightMessageKind.Delta, Model = model, Weights = d.Version, Chunk = i, Chunks = chunks.Count, Payload = chunks[i], SnapshotUtc = d.SnapshotUtc }));
            }
        }

        var (gaps0, duplicates0, refused0) = (replica.Gaps, replica.Duplicates, replica.Refused);

        // Missing: 3 and 4 are only in the store; 5 arrives first. The replica fills 3 and 4 from the store, then applies 5.
        foreach (var s in new long[] { 3, 4 })
        {
            await h.Checkpoints.WriteAtomicAsync(model, baseVersion, CheckpointFiles.Delta(s), Delta(s, baseVersion).Encode());
        }
        await Deliver(Delta(5, baseVersion));
        Assert.Equal(5, replica.Weights?.Delta);
        Assert.Equal(5f, Row());
        Assert.Equal(gaps0 + 1, replica.Gaps);

        // Duplicates (a redelivered 4, and 5 again) are ignored: the row keeps 5's value.
        await Deliver(Delta(4, baseVersion));
        await Deliver(Delta(5, baseVersion));
        Assert.Equal(5f, Row());
        Assert.Equal(duplicates0 + 2, replica.Duplicates);

        // Reordered chunks of 6 are put back together before it applies.
        var chunkCount = WeightDelta.Chunk(Delta(6, baseVersion).Encode(), 1000).Count;
        Assert.True(chunkCount >= 3);
        await Deliver(Delta(6, baseVersion), 1000, [.. Enumerable.Range(0, chunkCount).Reverse()]);
        Assert.Equal(6, replica.Weights?.Delta);
        Assert.Equal(6f, Row());

        // A delta on another base than the one serving follows is refused.
        await Deliver(Delta(7, baseVersion + 99));
        Assert.Equal(6, replica.Weights?.Delta);
        Assert.Equal(refused0 + 1, replica.Refused);
        Assert.Equal(6f, Row());
    }

    [Fact]
    public async Task A_replica_the_stream_stops_feeding_catches_up_from_the_store_within_two_watch_periods()
    {
        await using var h = await ClusterHarness.StartAsync();
        const string model = "watch";
        var (job, published, registry, replica) = await ServingFirstDeltaAsync(h, model, "watch-job");

        // Deltas retained but never sent (as when a stream stalls): the replica finds and applies them itself.
        var template = await ServingReplica.ReadDeltaAsync(h.Checkpoints, model, published.Weights.Checkpoint, CheckpointFiles.Delta(1), CancellationToken.None);
        foreach (var s in new long[] { 2, 3 })
        {
            var delta = new WeightDelta { Model = model, Version = published.Weights with { Delta = s }, SnapshotUtc = DateTime.UtcNow, Tables = template.Tables, Dense = template.Dense };
            await h.Checkpoints.WriteAtomicAsync(model, published.Weights.Checkpoint, CheckpointFiles.Delta(s), delta.Encode());
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await PublishingTests.WaitAsync(() => replica.Weights?.Delta == 3, "the replica applies the retained deltas 2 and 3");
        Assert.True(clock.Elapsed < ReplicaGrain.WatchPeriod * 4, $"caught up after {clock.Elapsed}");

        // A checkpoint serving should hold, announced where the replica never heard of it: it switches.
        var checkpoint = await job.CheckpointAsync();
        await h.Grains.GetGrain<IServingVersionGrain>(model).SetAsync(checkpoint.Version);
        await PublishingTests.WaitAsync(() => replica.Weights?.Checkpoint == checkpoint.Version && replica.TargetCheckpoint == checkpoint.Version, "the replica loads the announced checkpoint");

        // And it keeps listening: the job's next delta on that checkpoint comes on the stream as usual.
        await job.RestoreAsync(checkpoint.Version, model);
        var next = await job.PublishAsync();
        Assert.Equal(checkpoint.Version, next.Weights.Checkpoint);
        await PublishingTests.WaitAsync(() => replica.Weights == next.Weights, "the next delta arrives");
    }

    [Fact]
    public async Task A_delta_on_a_checkpoint_whose_announcement_was_lost_is_applied_and_a_late_announcement_does_not_take_the_replica_back()
    {
        await using var h = await ClusterHarness.StartAsync();
        const string model = "lost";
        var (job, published, registry, replica) = await ServingFirstDeltaAsync(h, model, "lost-job");
        var template = await ServingReplica.ReadDeltaAsync(h.Checkpoints, model, published.Weights.Checkpoint, CheckpointFiles.Delta(1), CancellationToken.None);
        var grain = h.WeightsReader(model, h.Cluster.Silos[0].SiloAddress);

        // A new checkpoint is announced to the serving-version grain, and its message never reaches the replica (a queue
        // stream's agent read it and died). Then the first delta on it arrives.
        var checkpoint = await job.CheckpointAsync();
        await h.Grains.GetGrain<IServingVersionGrain>(model).SetAsync(checkpoint.Version);
        var refused = replica.Refused;
        var delta = new WeightDelta { Model = model, Version = new WeightsVersion(checkpoint.Version, 1), SnapshotUtc = DateTime.UtcNow, Tables = template.Tables, Dense = template.Dense };
        var chunks = WeightDelta.Chunk(delta.Encode(), WeightDelta.MaxChunkBytes);
        for (var i = 0; i < chunks.Count; i++)
        {
            await grain.DeliverAsync(h.WeightsChannel.Seal(new WeightMessage { Kind = WeightMessageKind.Delta, Model = model, Weights = delta.Version, Chunk = i, Chunks = chunks.Count, Payload = chunks[i], SnapshotUtc = delta.SnapshotUtc }));
        }
        // It was refused (serving followed the old checkpoint as far as this replica knew) until the watch caught up.
        Assert.Equal(delta.Version, replica.Weights);
        Assert.Equal(refused, replica.Refused);
        Assert.Equal(checkpoint.Version, replica.TargetCheckpoint);
        Assert.True(replica.CatchUps >= 1);

        // The lost announcement of the older checkpoint comes late: the replica stays on what serving follows.
        await grain.DeliverAsync(h.WeightsChannel.Seal(new WeightMessage { Kind = WeightMessageKind.Checkpoint, Model = model, Weights = published.Weights with { Delta = 0 }, SnapshotUtc = DateTime.UtcNow }));
        Assert.Equal(checkpoint.Version, replica.TargetCheckpoint);
        Assert.Equal(delta.Version, replica.Weights);
    }

    [Fact]
    public void A_replica_orders_deltas_on_its_own()
    {
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        using var replica = new ServingReplica(schema, "m") { TargetCheckpoint = 1 };
        var delta = new WeightDelta { Model = "m", Version = new WeightsVersion(1, 1), SnapshotUtc = DateTime.UtcNow };
        Assert.Equal(DeltaOutcome.NeedsBase, replica.Offer(delta)); // no checkpoint loaded yet
        Assert.Equal(DeltaOutcome.Refused, replica.Offer(new WeightDelta { Model = "m", Version = new WeightsVersion(2, 1), SnapshotUtc = DateTime.UtcNow }));
        Assert.Equal(DeltaOutcome.Refused, replica.Offer(new WeightDelta { Model = "other", Version = new WeightsVersion(1, 1), SnapshotUtc = DateTime.UtcNow }));
    }

    /// <summary>A job trained on 3,000 samples and paused, its first delta published and applied by this silo's replica.</summary>
    private static async Task<(ITrainingOrchestratorGrain Job, PublishResult Published, ServingRegistry Registry, ServingReplica Replica)> ServingFirstDeltaAsync(
        ClusterHarness h, string model, string jobName)
    {
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var job = h.Job(jobName);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1 });
        await job.StartAsync();
        await new SamplePublisher(h.Client, jobName, 1).PublishAsync(SampleReader.Open(schema, SampleReader.SyntheticData).Read(3000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 3000);
        await job.PauseAsync();
        var published = await job.PublishAsync();
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await h.Client.GetGrain<IScoringGrain>(0).GetReplicaAsync(model);
        await PublishingTests.WaitAsync(() => registry.TryGet(model)?.Weights?.Delta == 1, "delta 1 applied");
        return (job, published, registry, registry.TryGet(model)!);
    }
}
