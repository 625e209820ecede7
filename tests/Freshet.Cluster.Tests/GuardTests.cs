using Freshet.Client;
using Freshet.Deployments;
using Freshet.Experiments;
using Freshet.Feedback;
using Freshet.Jobs;
using Freshet.Model.Schema;
using Freshet.Model.Synthetic;
using Xunit.Abstractions;

namespace Freshet.Cluster.Tests;

/// <summary>
/// The served-quality guard on a simulated clock (<see cref="LoopSimulation"/>): the synthetic stream's traffic scored
/// through the SDK, its labels reported, the joiners training the main job, the deployment ticked on the same clock.
/// </summary>
public class GuardTests(ITestOutputHelper output)
{
    private static FeatureSchema Schema => SchemaLoader.Load(TestData.Schema("synthetic.json"));

    private static SyntheticOptions Stream(string promotionStart = "24h") => new() { PromotionStart = promotionStart, PromotionDuration = "3h" };

    /// <param name="after">Run on the cluster once the loop has ended, before it stops.</param>
    private async Task<LoopSimulation.Result> RunAsync(LoopSimulation.Options options, Func<FreshetClient, LoopSimulation.Result, Task>? after = null)
    {
        await using var h = await ClusterHarness.StartAsync();
        var client = new FreshetClient(h.Client);
        var result = await LoopSimulation.RunAsync(client, h.Client, Schema, options, h.Grains, output.WriteLine);
        foreach (var e in result.Events.Where(e => e.Guard is not null)) output.WriteLine($"{e.Time:u} {e.Kind.Name()} {e.Guard}");
        foreach (var (q, at) in result.Served)
        {
            output.WriteLine($"served by {q.Weights} from {at:u}: {q.Ctr.Count} impressions, CTR AUC {q.Ctr.Auc:F4}, log-loss {q.Ctr.LogLoss:F4}, mean answer {Enumerable.Range(0, Freshet.Model.Metrics.ScoreBins.Bins).Sum(i => (i + 0.5) / Freshet.Model.Metrics.ScoreBins.Bins * (q.Ctr.Positives[i] + q.Ctr.Negatives[i])) / Math.Max(1, q.Ctr.Count):F4} against {(double)q.Ctr.PositiveCount / Math.Max(1, q.Ctr.Count):F4} clicked; paired {q.Paired.Count}");
        }
        output.WriteLine($"scored {result.Scored}, shadow pairs {result.Shadowed}, publishes {result.Publishes}, good {result.GoodVerdicts}, rollbacks {result.Rollbacks.Count} (false {result.FalseRollbacks}), detected after {result.DetectedAfterMinutes} min, {result.Elapsed.TotalSeconds:F0} s");
        if (after is not null) await after(client, result);
        return result;
    }

    [Fact]
    public async Task A_healthy_run_through_the_promotion_window_is_never_rolled_back()
    {
        // The promotion starts an hour in and lasts three: traffic shifts, every version is judged on the same requests.
        var result = await RunAsync(new LoopSimulation.Options { Model = "healthy", Synthetic = Stream("1h"), Duration = TimeSpan.FromHours(5) });
        Assert.Empty(result.Rollbacks);
        Assert.True(result.GoodVerdicts >= 3, $"the guard judged {result.GoodVerdicts} lines good; it should keep up with the publishes");
        Assert.True(result.Publishes >= 20);
    }

    [Fact]
    public async Task A_producer_flipping_labels_for_an_hour_is_rolled_back_and_the_line_resumed_from_the_good_weights_is_healthy()
    {
        // The bound: the fault reaches a publish (10 min), that version serves its rows (10 min), their click window closes
        // (10 min), the next check (5 min), on 2-minute steps: 40 minutes.
        var result = await RunAsync(new LoopSimulation.Options
        {
            Model = "poisoned", Synthetic = Stream(), Duration = TimeSpan.FromHours(4.5), PoisonAt = TimeSpan.FromHours(1), ResumeAfter = TimeSpan.FromMinutes(90),
        });
        var rollback = Assert.Single(result.Rollbacks);
        Assert.True(rollback.Explained);
        Assert.True(rollback.Verdict.ServedLogLoss > rollback.Verdict.GoodLogLoss * 1.5, rollback.Verdict.ToString());
        Assert.InRange(result.DetectedAfterMinutes!.Value, 0, 40);
        // Resumed after the producer stopped, from the good weights' checkpoint: the new line is judged good, never rolled back.
        var resumed = Assert.Single(result.Events, e => e.Kind == DeploymentEventKind.Resume);
        Assert.Contains(result.Events, e => e.Kind == DeploymentEventKind.GuardGood && e.Time > resumed.Time && e.Weights >= resumed.Weights);
    }

    [Fact]
    public async Task A_corrupted_delta_is_rolled_back_and_while_halted_no_checkpoint_or_mode_change_serves_its_line_again()
    {
        var result = await RunAsync(
            new LoopSimulation.Options { Model = "corrupted", Synthetic = Stream(), Duration = TimeSpan.FromHours(3), CorruptAt = TimeSpan.FromHours(1.5) },
            async (client, result) =>
            {
                // Halted: a checkpoint or a mode switch would publish the rolled-back line, and its announcement would lift
                // the replicas' halt. Both are refused, naming the way out.
                var good = result.Rollbacks[0].Verdict.Good;
                var checkpoint = await Assert.ThrowsAsync<JobRequestException>(() => client.CheckpointAsync("corrupted"));
                Assert.Contains("freshet resume --model corrupted", checkpoint.Message);
                Assert.Contains($"a checkpoint is refused while the guard holds serving on the good weights {good}", checkpoint.Message);
                var promotion = await Assert.ThrowsAsync<JobRequestException>(() => client.SetModeAsync("corrupted", Mode.Promotion, TimeSpan.FromHours(2)));
                Assert.Contains("switching to promotion mode is refused", promotion.Message);
                Assert.Contains("freshet resume", promotion.Message);
                var status = await client.GetStatusAsync("corrupted");
                Assert.True(status.Deployment.Guard!.Halted);
                Assert.Equal(Mode.Daily, status.Deployment.Mode);
                Assert.All(status.Replicas, r => Assert.Equal((good, good), (r.Weights!.Value, r.Halt!.Value)));
            });
        var rollback = Assert.Single(result.Rollbacks);
        Assert.True(rollback.Explained);
        Assert.InRange(result.DetectedAfterMinutes!.Value, 0, 40);
    }

    [Fact]
    public async Task A_corrupted_version_is_judged_while_it_is_served_when_nothing_replaces_it()
    {
        // One publish an hour: the corrupted delta goes out at +60 min and nothing replaces it before the run ends. The
        // guard judges it on its rows whose click window has closed, while it is served.
        var result = await RunAsync(new LoopSimulation.Options
        {
            Model = "served", Synthetic = Stream(), Duration = TimeSpan.FromMinutes(110), PublishInterval = TimeSpan.FromHours(1), CorruptAt = TimeSpan.FromHours(1),
        });
        Assert.Equal(1, result.Publishes);
        var published = Assert.Single(result.Events, e => e.Kind == DeploymentEventKind.Publish).Weights!.Value;
        var rollback = Assert.Single(result.Rollbacks);
        Assert.True(rollback.Explained);
        Assert.Equal((published, published), (rollback.Verdict.From!.Value, rollback.Verdict.To!.Value));
        // Its first rows' click window closes 10 minutes after the publish; then a look every 5 minutes.
        Assert.InRange(result.DetectedAfterMinutes!.Value, 0, 30);
    }

    [Fact]
    public async Task A_shadowed_row_counts_once_its_click_window_has_closed_in_the_pair_of_versions_that_answered_it()
    {
        await using var h = await ClusterHarness.StartAsync();
        const string model = "pairs";
        var joiner = h.Grains.Joiner(model, 0);
        await joiner.ConfigureAsync(new JoinerConfig
        {
            Spec = new FeedbackSpec { Method = Freshet.Model.Feedback.DelayedFeedback.Fnw, Joiners = 1, ClickWindow = TimeSpan.FromMinutes(10), Guard = new GuardSpec() },
            Job = "pairs-main", Trainers = 1, Clock = ClockKind.Manual,
        });
        var t = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var served = new Freshet.Model.Serving.WeightsVersion(1, 2);
        var (oldGood, newGood) = (new Freshet.Model.Serving.WeightsVersion(1), new Freshet.Model.Serving.WeightsVersion(1, 1));
        // Serving answered 0.2, the good weights 0.1; four rows shadowed by the old good copy, four a minute later by the new one.
        PredictionLog Log(DateTime at, Freshet.Model.Serving.WeightsVersion shadow, Guid[] ids) => new()
        {
            Ids = ids, Weights = served, Time = at, Shadow = shadow, Ctr = [.. ids.Select(_ => 0.2f)], Cvr = [.. ids.Select(_ => 0.1f)], ShadowCtr = [.. ids.Select(_ => 0.1f)],
            Samples = Freshet.Model.Data.SampleCodec.Encode([.. ids.Select(_ => new Freshet.Model.Data.Sample { Task = Freshet.Model.Data.TaskKind.Ctr, Time = at.Ticks, Label = 0, Ids = [1UL], Bags = [], Numerics = [] })]),
        };
        var first = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        var second = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        await joiner.LogAsync(Log(t, oldGood, first));
        await joiner.LogAsync(Log(t.AddMinutes(1), newGood, second));
        FeedbackLabel Click(Guid id, DateTime at) => new() { Prediction = new PredictionId(model, 0, id), Event = FeedbackEvent.Click, Time = at };
        async Task<ServedQuality> QualityAsync() => Assert.Single((await joiner.GetStatusAsync()).Quality);

        // A click before the window closed: its pair waits for the window, with the unclicked rows of its time.
        await joiner.LabelAsync([Click(first[0], t.AddMinutes(2))]);
        Assert.Equal(0, (await QualityAsync()).Paired.Count);

        // The clock past the first rows' window (a label for an id never served moves it): they count, against the old good copy only.
        await joiner.LabelAsync([Click(Guid.NewGuid(), t.AddMinutes(10.5))]);
        var quality = await QualityAsync();
        Assert.Equal(4, quality.Paired.Count);
        var pairs = Assert.Single(quality.PairedWith);
        Assert.Equal(oldGood, pairs.Key);
        // The clicked row: served -ln 0.2, good -ln 0.1; the three unclicked: -ln 0.8 and -ln 0.9.
        Assert.Equal(Math.Log(0.1 / 0.2) + 3 * Math.Log(0.9 / 0.8), pairs.Value.SumDiff, 4);

        await joiner.LabelAsync([Click(Guid.NewGuid(), t.AddMinutes(11.5))]);
        quality = await QualityAsync();
        Assert.Equal((4L, 4L, 8L), (quality.PairedWith[oldGood].Count, quality.PairedWith[newGood].Count, quality.Paired.Count));
        Assert.Equal(4 * Math.Log(0.9 / 0.8), quality.PairedWith[newGood].SumDiff, 4);
    }
}
