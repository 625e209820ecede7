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
}
