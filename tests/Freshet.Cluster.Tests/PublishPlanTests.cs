using Freshet.Grains.Jobs;
using Freshet.Jobs;
using Freshet.Model.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>
/// The publish plan without a cluster: a job's delivery steps recorded in memory (a test double for the grain's storage,
/// state and stream), each able to fail once, to show what is kept, in what order things happen and which number goes out.
/// </summary>
public class PublishPlanTests
{
    private sealed class Steps : IDeltaSteps
    {
        public List<string> Done { get; } = [];
        public DeliveryStage? FailAt { get; set; }
        public UnsentDelta? Kept { get; private set; }
        public WeightsVersion? Recorded { get; private set; }
        public Task<WeightsVersion> NextAsync(WeightsVersion published) => Task.FromResult(new WeightsVersion(published.Checkpoint, published.Delta + 1));

        public Task RetainAsync(WeightsVersion version, byte[] encoded) => Step(DeliveryStage.Retain, $"retain {version} {encoded.Length}");

        public Task RecordAsync(WeightsVersion version, DateTime snapshotUtc)
        {
            Recorded = version;
            return Step(DeliveryStage.Record, $"record {version}");
        }

        public async Task<int> SendAsync(WeightsVersion version, byte[] encoded, DateTime snapshotUtc)
        {
            await Step(DeliveryStage.Send, $"send {version} {encoded.Length}");
            return 3;
        }

        public Task KeepAsync(UnsentDelta? delta)
        {
            Kept = delta;
            Done.Add(delta is null ? "keep none" : $"keep {delta.Result.Weights}");
            return Task.CompletedTask;
        }

        private Task Step(DeliveryStage stage, string what)
        {
            if (FailAt == stage)
            {
                FailAt = null;
                throw new IOException($"{stage} refused");
            }
            Done.Add(what);
            return Task.CompletedTask;
        }
    }

    private static UnsentDelta Delta(WeightsVersion version, int bytes) =>
        new() { Encoded = new byte[bytes], Result = new PublishResult { Model = "m", Weights = version, Bytes = bytes, SnapshotUtc = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc) } };

    [Fact]
    public async Task A_delta_is_retained_recorded_then_sent_and_nothing_is_kept()
    {
        var steps = new Steps();
        var plan = new PublishPlan(steps);
        var version = new WeightsVersion(7, 3);
        var result = await plan.DeliverAsync(Delta(version, 10));
        Assert.Equal(["retain v7+3 10", "record v7+3", "send v7+3 10", "keep none"], steps.Done);
        Assert.Equal(3, result.Chunks);
        Assert.Null(plan.Unsent);
        Assert.Null(await plan.FirstAsync(new WeightsVersion(7, 3)));
    }

    [Theory]
    [InlineData(DeliveryStage.Retain)]
    [InlineData(DeliveryStage.Record)]
    [InlineData(DeliveryStage.Send)]
    public async Task A_refused_delta_is_kept_and_goes_out_first_with_the_same_number_and_bytes(DeliveryStage failing)
    {
        var steps = new Steps { FailAt = failing };
        var plan = new PublishPlan(steps);
        var delta = Delta(new WeightsVersion(7, 3), 10);

        var e = await Assert.ThrowsAsync<DeltaNotDeliveredException>(() => plan.DeliverAsync(delta));
        Assert.Equal((failing, new WeightsVersion(7, 3)), (e.Stage, e.Version));
        Assert.IsType<IOException>(e.InnerException);
        Assert.Same(delta, plan.Unsent);
        Assert.Same(delta, steps.Kept); // persisted for a new activation
        // Recorded before it is sent: a send that fails leaves the number used (a gap replicas fill from the retained file).
        Assert.Equal(failing == DeliveryStage.Send, steps.Done.Contains("record v7+3"));

        // The next publish, serving still on checkpoint 7: the kept delta first, as it was.
        var first = await plan.FirstAsync(new WeightsVersion(7, failing == DeliveryStage.Send ? 3 : 2));
        Assert.Same(delta, first);
        steps.Done.Clear();
        await plan.DeliverAsync(first!);
        Assert.Equal(["retain v7+3 10", "record v7+3", "send v7+3 10", "keep none"], steps.Done);
        Assert.Null(plan.Unsent);
    }

    [Fact]
    public async Task A_kept_delta_is_dropped_once_serving_moved_to_another_base_which_holds_its_rows()
    {
        var steps = new Steps { FailAt = DeliveryStage.Send };
        var plan = new PublishPlan(steps);
        await Assert.ThrowsAsync<DeltaNotDeliveredException>(() => plan.DeliverAsync(Delta(new WeightsVersion(7, 3), 10)));

        Assert.Null(await plan.FirstAsync(new WeightsVersion(8))); // a checkpoint (8) serving switched to
        Assert.Null(plan.Unsent);
        Assert.Null(steps.Kept);

        // Restored from grain state and dropped by a restore of other weights.
        plan.Restore(Delta(new WeightsVersion(8, 1), 4));
        await plan.DropAsync();
        Assert.Null(plan.Unsent);
        Assert.Equal("keep none", steps.Done[^1]);
    }
}
