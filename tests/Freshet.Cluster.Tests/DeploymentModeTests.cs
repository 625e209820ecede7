using System.Runtime.InteropServices;
using Freshet.Deployments;
using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Parameters;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>The daily and promotion modes and rollback, on a simulated clock (explicit ticks).</summary>
public class DeploymentModeTests
{
    private static readonly DateTime T0 = new(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc);

    private static ScoreRow Row(string user, string item) =>
        ScoreRow.Of(("user", user), ("item", item), ("category", "c3"), ("device", "d1"), ("price", "12.5"));

    private sealed class Fixture(ClusterHarness h, FeatureSchema schema, string model) : IAsyncDisposable
    {
        private readonly List<Sample> _samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(40_000).ToList();
        private int _next;

        public ClusterHarness H { get; } = h;
        public FeatureSchema Schema { get; } = schema;
        public string Model { get; } = model;
        public IDeploymentGrain Deployment => new Freshet.Client.FreshetClient(H.Client).Deployment(Model);
        public DeploymentSpec Spec => new() { Model = Model, SchemaJson = Schema.Json, Shards = 2, PublishInterval = TimeSpan.FromMinutes(1), PromotionEvery = TimeSpan.FromHours(2), DailyCheckpointAt = TimeSpan.FromHours(2), Clock = ClockKind.Manual };
        public ITrainingOrchestratorGrain A => H.Job(Spec.JobOf(DeploymentJob.Main));
        public ITrainingOrchestratorGrain B => H.Job(Spec.JobOf(DeploymentJob.B));
        public ServingRegistry Registry => H.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        public ServingReplica Replica => Registry.TryGet(Model) ?? throw new InvalidOperationException("no replica yet");

        /// <summary>Sends the next <paramref name="count"/> samples on the main job's streams and waits until each running job has trained them.</summary>
        public async Task FeedAsync(int count, params ITrainingOrchestratorGrain[] jobs)
        {
            var before = new long[jobs.Length];
            for (var i = 0; i < jobs.Length; i++) before[i] = (await jobs[i].GetStatusAsync()).Trainers.Sum(t => t.SamplesTrained);
            await new SamplePublisher(H.Client, Spec.JobOf(DeploymentJob.Main), 1).PublishAsync(_samples.Skip(_next).Take(count), end: false);
            _next += count;
            for (var i = 0; i < jobs.Length; i++) await PublishingTests.WaitTrainedAsync(jobs[i], before[i] + count);
        }

        public async Task<IReadOnlyList<Prediction>> ScoreAsync() =>
            await H.Client.GetGrain<IScoringGrain>(0).ScoreAsync(new ScoreRequest { Model = Model, Rows = [Row("u1", "i1"), Row("u-new", "i-new")] });

        public Task WaitServingAsync(long version, long sequence) =>
            PublishingTests.WaitAsync(() => Registry.TryGet(Model) is { } r && r.Weights == new WeightsVersion(version, sequence), $"serving holds {new WeightsVersion(version, sequence)}");

        public ValueTask DisposeAsync() => H.DisposeAsync();
    }

    private static async Task<Fixture> StartAsync(string model)
    {
        var h = await ClusterHarness.StartAsync();
        return new Fixture(h, SchemaLoader.Load(TestData.Schema("synthetic.json")), model);
    }

    [Fact]
    public async Task Promotion_mode_walks_the_A_B_sequence_on_a_simulated_clock()
    {
        var traced = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Freshet.Deployments",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = a => { if ((string?)a.GetTagItem("freshet.model") == "promo") traced.Enqueue(a); },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var f = await StartAsync("promo");
        await f.Deployment.StartAsync(f.Spec);
        Assert.Empty(await f.Deployment.TickAsync(T0)); // arms the schedules
        await f.FeedAsync(8_000, f.A);

        // Daily mode first: the main job publishes (its first publish writes the base checkpoint).
        var events = await f.Deployment.TickAsync(T0.AddMinutes(1));
        var first = Assert.Single(events);
        Assert.Equal(("publish", DeploymentJob.Main, 1L), (first.Kind.Name(), first.Job, first.Weights?.Delta));
        var v1 = first.Weights!.Value.Checkpoint;
        await f.ScoreAsync();
        await f.WaitServingAsync(v1, 1);

        // Promotion starts at T: A checkpoints, serving switches to it, B restores the same checkpoint.
        var promotion = await f.Deployment.SetModeAsync(Mode.Promotion, TimeSpan.FromHours(2));
        Assert.Equal(Mode.Promotion, promotion.Mode);
        var v2 = promotion.ServingCheckpoint!.Value;
        Assert.True(v2 > v1);
        Assert.Equal("promotion-start", promotion.Events[^1].Kind.Name());
        await f.WaitServingAsync(v2, 0);
        var b = await f.B.GetStatusAsync();
        Assert.Equal(JobState.Running, b.State);
        Assert.True(b.Spec!.LockFrozen);
        Assert.Equal(new WeightsVersion(v2), b.Published);
        await AssertSameWeightsAsync(f, f.Model, DeploymentJob.B.ModelOf(f.Spec.Model));

        // Both train on the same samples; at each interval B publishes on A's checkpoint and A publishes nothing.
        await f.FeedAsync(8_000, f.A, f.B);
        var before = await f.ScoreAsync();
        for (var minute = 2; minute <= 3; minute++)
        {
            var publish = Assert.Single(await f.Deployment.TickAsync(T0.AddMinutes(minute)));
            Assert.Equal(("publish", DeploymentJob.B, new WeightsVersion(v2, minute - 1)), (publish.Kind.Name(), publish.Job, publish.Weights));
        }
        await f.WaitServingAsync(v2, 2);
        var after = await f.ScoreAsync();
        Assert.All(after, p => Assert.Equal(new WeightsVersion(v2, 2L), p.Weights));
        Assert.NotEqual(before[0].Ctr, after[0].Ctr);
        Assert.Equal(new WeightsVersion(v2), (await f.A.GetStatusAsync()).Published);
        Assert.Empty(await f.Deployment.TickAsync(T0.AddMinutes(3).AddSeconds(30))); // nothing is due between intervals

        // N hours after T: A checkpoints, B pauses publishing, serving switches to A's checkpoint, B restores it.
        await f.FeedAsync(8_000, f.A, f.B);
        var switchAt = T0.AddMinutes(1).AddHours(2);
        Assert.Single(await f.Deployment.TickAsync(switchAt.AddMinutes(-1))); // B's last publish on v2
        var change = Assert.Single(await f.Deployment.TickAsync(switchAt));
        Assert.Equal(("promotion-switch", DeploymentJob.Main), (change.Kind.Name(), change.Job));
        var v3 = change.Weights!.Value.Checkpoint;
        Assert.True(v3 > v2);
        await f.WaitServingAsync(v3, 0);
        b = await f.B.GetStatusAsync();
        Assert.Equal(new WeightsVersion(v3), b.Published);
        await AssertSameWeightsAsync(f, f.Model, DeploymentJob.B.ModelOf(f.Spec.Model));
        var switched = await f.ScoreAsync();
        Assert.All(switched, p => Assert.Equal(new WeightsVersion(v3, 0L), p.Weights));

        // B resumes publishing, now on A's new checkpoint.
        await f.FeedAsync(4_000, f.A, f.B);
        var resumed = Assert.Single(await f.Deployment.TickAsync(switchAt.AddMinutes(1)));
        Assert.Equal(("publish", DeploymentJob.B, new WeightsVersion(v3, 1)), (resumed.Kind.Name(), resumed.Job, resumed.Weights));
        await f.WaitServingAsync(v3, 1);

        // Back to daily: B stops, the main job publishes on the version serving holds.
        var daily = await f.Deployment.SetModeAsync(Mode.Daily);
        Assert.Equal(Mode.Daily, daily.Mode);
        Assert.Equal(JobState.Stopped, (await f.B.GetStatusAsync()).State);
        var v4 = daily.ServingCheckpoint!.Value; // A's own checkpoint: B's deltas on v3 are not A's line
        Assert.True(v4 > v3);
        await f.WaitServingAsync(v4, 0);
        var mainAgain = Assert.Single(await f.Deployment.TickAsync(switchAt.AddMinutes(2)));
        Assert.Equal(("publish", DeploymentJob.Main, new WeightsVersion(v4, 1)), (mainAgain.Kind.Name(), mainAgain.Job, mainAgain.Weights));
        var kinds = (await f.Deployment.GetStatusAsync()).Events.Select(e => e.Kind.Name()).ToList();
        Assert.Equal(["start", "publish", "promotion-start", "publish", "publish", "publish", "promotion-switch", "publish", "daily-start", "publish"], kinds);

        // Every transition is traced with the versions involved.
        var switchTrace = Assert.Single(traced, a => a.OperationName == "freshet.deployment.promotion-switch");
        Assert.Equal(v3, switchTrace.GetTagItem("freshet.serving_version"));
        Assert.Equal(kinds, traced.Select(a => a.OperationName["freshet.deployment.".Length..]));
    }

    [Fact]
    public async Task A_daily_checkpoint_storage_refuses_is_an_event_tried_again_a_minute_later_while_deltas_go_on()
    {
        await using var f = await StartAsync("dailyfail");
        await f.Deployment.StartAsync(f.Spec);
        var start = T0.AddHours(1).AddMinutes(58);
        await f.Deployment.TickAsync(start);
        await f.FeedAsync(4_000, f.A);
        var v1 = Assert.Single(await f.Deployment.TickAsync(start.AddMinutes(1))).Weights!.Value.Checkpoint;
        await f.ScoreAsync(); // serving loads the model on its first request
        await f.WaitServingAsync(v1, 1);

        // The checkpoint store breaks: a file where the next version's folder must go (a real file system error).
        var blocked = f.H.Checkpoints.VersionPath(f.Model, v1 + 1);
        await File.WriteAllTextAsync(blocked, "in the way");
        await f.FeedAsync(2_000, f.A);
        var failed = Assert.Single(await f.Deployment.TickAsync(T0.AddHours(2)));
        Assert.Equal("checkpoint-failed", failed.Kind.Name());
        Assert.Contains($"of model '{f.Model}' was not committed: reserving a version number", failed.Detail);
        Assert.Contains($"version {v1} stays the latest", failed.Detail);
        var status = await f.Deployment.GetStatusAsync();
        Assert.Equal(T0.AddHours(2).AddMinutes(1), status.NextCheckpoint); // a minute later, not every tick
        Assert.Equal(v1, status.ServingCheckpoint);
        Assert.NotNull(status.Main!.LastCheckpointError);
        Assert.NotEqual(JobState.Failed, status.Main.State);

        // Deltas go on meanwhile, on the version serving has.
        await f.FeedAsync(2_000, f.A);
        var delta = Assert.Single(await f.Deployment.TickAsync(T0.AddHours(2).AddSeconds(30)));
        Assert.Equal(("publish", new WeightsVersion(v1, 2)), (delta.Kind.Name(), delta.Weights));
        await f.WaitServingAsync(v1, 2);

        // Storage is fixed: the retry a minute later commits, serving swaps to it, and the next daily one is tomorrow.
        File.Delete(blocked);
        var swap = Assert.Single(await f.Deployment.TickAsync(T0.AddHours(2).AddMinutes(1)));
        Assert.Equal("daily-checkpoint", swap.Kind.Name());
        var v2 = swap.Weights!.Value.Checkpoint;
        await f.WaitServingAsync(v2, 0);
        status = await f.Deployment.GetStatusAsync();
        Assert.Equal(T0.AddDays(1).AddHours(2), status.NextCheckpoint);
        Assert.Null(status.Main!.LastCheckpointError);
    }

    [Fact]
    public async Task Daily_mode_swaps_serving_to_the_daily_checkpoint()
    {
        await using var f = await StartAsync("daily");
        await f.Deployment.StartAsync(f.Spec);
        var start = T0.AddHours(1).AddMinutes(58); // the daily checkpoint is due at 02:00
        await f.Deployment.TickAsync(start);
        Assert.Equal(T0.AddHours(2), (await f.Deployment.GetStatusAsync()).NextCheckpoint);
        await f.FeedAsync(8_000, f.A);
        var publish = Assert.Single(await f.Deployment.TickAsync(start.AddMinutes(1)));
        var v1 = publish.Weights!.Value.Checkpoint;
        await f.ScoreAsync();
        await f.WaitServingAsync(v1, 1);

        await f.FeedAsync(8_000, f.A);
        var swap = Assert.Single(await f.Deployment.TickAsync(T0.AddHours(2)));
        Assert.Equal("daily-checkpoint", swap.Kind.Name());
        var v2 = swap.Weights!.Value.Checkpoint;
        Assert.True(v2 > v1);
        await f.WaitServingAsync(v2, 0);
        Assert.All(await f.ScoreAsync(), p => Assert.Equal(new WeightsVersion(v2, 0L), p.Weights));
        Assert.Equal(T0.AddDays(1).AddHours(2), (await f.Deployment.GetStatusAsync()).NextCheckpoint);

        // Deltas carry on, on the new base.
        await f.FeedAsync(4_000, f.A);
        var next = Assert.Single(await f.Deployment.TickAsync(T0.AddHours(2).AddMinutes(1)));
        Assert.Equal(("publish", new WeightsVersion(v2, 1)), (next.Kind.Name(), next.Weights));
        await f.WaitServingAsync(v2, 1);
    }

    [Fact]
    public async Task Rollback_puts_serving_back_on_the_old_version_and_refuses_newer_deltas()
    {
        await using var f = await StartAsync("rollback");
        await f.Deployment.StartAsync(f.Spec);
        await f.Deployment.TickAsync(T0);
        await f.FeedAsync(8_000, f.A);
        var v1 = Assert.Single(await f.Deployment.TickAsync(T0.AddMinutes(1))).Weights!.Value.Checkpoint;
        await f.ScoreAsync();
        await f.WaitServingAsync(v1, 1);

        await f.FeedAsync(8_000, f.A);
        var v2 = (await f.Deployment.CheckpointAsync()).ServingCheckpoint!.Value;
        await f.FeedAsync(4_000, f.A);
        var published = Assert.Single(await f.Deployment.TickAsync(T0.AddMinutes(2)));
        Assert.Equal(new WeightsVersion(v2, 1), published.Weights);
        await f.WaitServingAsync(v2, 1);
        var onV2 = await f.ScoreAsync();

        var rolled = await f.Deployment.RollbackAsync(v1);
        Assert.Equal(v1, rolled.ServingCheckpoint);
        Assert.Equal("rollback", rolled.Events[^1].Kind.Name());
        // Serving is back on the checkpoint itself (v1's deltas belonged to the abandoned line), and scores like it did then.
        await f.WaitServingAsync(v1, 0);
        var back = await f.ScoreAsync();
        Assert.All(back, p => Assert.Equal(new WeightsVersion(v1, 0L), p.Weights));
        Assert.NotEqual(onV2[0].Ctr, back[0].Ctr);
        var main = await f.A.GetStatusAsync();
        Assert.Equal((new WeightsVersion(v1), JobState.Running), (main.Published, main.State));

        // A delta built on the newer base (a late message of the abandoned line) is refused by the replica.
        var refusedBefore = f.Replica.Refused;
        var replicaGrain = f.H.WeightsReader(f.Model, f.H.Cluster.Silos[0].SiloAddress);
        var late = new Freshet.Model.Serving.WeightDelta { Model = f.Model, Version = new WeightsVersion(v2, 2), SnapshotUtc = DateTime.UtcNow };
        await replicaGrain.DeliverAsync(f.H.WeightsChannel.Seal(new Grains.Weights.WeightMessage { Kind = Grains.Weights.WeightMessageKind.Delta, Model = f.Model, Weights = new WeightsVersion(v2, 2), Chunk = 0, Chunks = 1, Payload = late.Encode(), SnapshotUtc = late.SnapshotUtc }));
        Assert.Equal(refusedBefore + 1, f.Replica.Refused);
        Assert.Equal(new WeightsVersion(v1), f.Replica.Weights);

        // The job trains on from v1 and its deltas are served on it.
        await f.FeedAsync(4_000, f.A);
        var afterRollback = Assert.Single(await f.Deployment.TickAsync(T0.AddMinutes(3)));
        Assert.Equal(new WeightsVersion(v1, 1), afterRollback.Weights);
        await f.WaitServingAsync(v1, 1);
        await Assert.ThrowsAsync<JobRequestException>(() => f.Deployment.RollbackAsync(v2 + 100));
    }

    /// <summary>Model B's weights equal Model A's after B restored A's checkpoint (no samples in flight): dense towers, batch-norm statistics, and embedding rows of every tier.</summary>
    private static async Task AssertSameWeightsAsync(Fixture f, string a, string b)
    {
        var denseA = await f.H.Grains.GetGrain<IDenseGrain>(a).PullAsync(-1, -1);
        var denseB = await f.H.Grains.GetGrain<IDenseGrain>(b).PullAsync(-1, -1);
        Assert.Equal(denseA.Count, denseB.Count);
        for (var i = 0; i < denseA.Count; i++)
        {
            Assert.Equal(denseA[i].Parameters, denseB[i].Parameters);
            Assert.Equal(denseA[i].Buffers, denseB[i].Buffers);
        }
        var probe = SampleReader.Open(f.Schema, SampleReader.SyntheticData).Read(500).ToList();
        for (var table = 0; table < probe[0].Ids.Length; table++)
        {
            var ids = probe.Select(s => s.Ids[table]).Distinct().Take(20).ToArray();
            foreach (var id in ids)
            {
                var pull = new RowPull { Tables = [new TableIds { Index = table, Ids = BitConverter.GetBytes(id), Occurrences = new byte[4] }] };
                var rowA = await f.H.Grains.GetGrain<IEmbeddingShardGrain>($"{a}/{ShardRouter.ShardOf(id, 2)}").PullAsync(pull);
                var rowB = await f.H.Grains.GetGrain<IEmbeddingShardGrain>($"{b}/{ShardRouter.ShardOf(id, 2)}").PullAsync(pull);
                Assert.Equal(MemoryMarshal.Cast<byte, float>(rowA.Rows[0]).ToArray(), MemoryMarshal.Cast<byte, float>(rowB.Rows[0]).ToArray());
            }
        }
    }
}
