using Freshet.Feedback;
using Freshet.Model.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>The guard's verdict (<see cref="ServedGuard.Judge"/>) on paired log-losses built row by row.</summary>
public class ServedGuardTests
{
    private static readonly GuardSpec Spec = new() { MinPairs = 1_000, Tolerance = 0.02, Z = 3.09 };

    private static ServedQuality Version(long checkpoint, long delta, int rows, double servedLoss, double goodLoss, bool settled = true, int seed = 1)
    {
        var q = new ServedQuality { Weights = new WeightsVersion(checkpoint, delta), Settled = settled };
        var rng = new Random(seed);
        for (var i = 0; i < rows; i++)
        {
            // Per-row losses scatter around their means; the same row's two answers share most of their noise.
            var noise = (rng.NextDouble() - 0.5) * 0.4;
            q.Paired.Add(servedLoss + noise + (rng.NextDouble() - 0.5) * 0.05, goodLoss + noise);
        }
        return q;
    }

    [Fact]
    public void Too_few_settled_pairs_wait()
    {
        var verdict = ServedGuard.Judge([Version(1, 1, 600, 0.5, 0.3), Version(1, 2, 600, 0.5, 0.3, settled: false)], new WeightsVersion(1), Spec);
        Assert.Equal(GuardAction.Wait, verdict.Action);
        Assert.Equal(600, verdict.Pairs);
    }

    [Fact]
    public void A_clearly_worse_line_is_rolled_back_with_both_figures()
    {
        var verdict = ServedGuard.Judge([Version(1, 1, 1_200, 0.40, 0.30)], new WeightsVersion(1), Spec);
        Assert.Equal(GuardAction.Rollback, verdict.Action);
        Assert.Equal(0.30, verdict.GoodLogLoss, 2);
        Assert.Equal(0.40, verdict.ServedLogLoss, 2);
        Assert.True(verdict.Z > 10);
    }

    [Fact]
    public void Significantly_but_slightly_worse_is_within_the_tolerance()
    {
        // 1% worse with a tight spread: significant, yet under the 2% tolerance.
        var verdict = ServedGuard.Judge([Version(1, 1, 5_000, 0.303, 0.300)], new WeightsVersion(1), Spec);
        Assert.True(verdict.Z > Spec.Z, verdict.ToString());
        Assert.Equal(GuardAction.Good, verdict.Action);
    }

    [Fact]
    public void The_newest_versions_are_judged_and_the_oldest_of_them_becomes_good()
    {
        var versions = new[] { Version(1, 1, 800, 0.3, 0.3), Version(1, 2, 600, 0.3, 0.3, seed: 2), Version(1, 3, 600, 0.3, 0.3, seed: 3) };
        var verdict = ServedGuard.Judge(versions, new WeightsVersion(1), Spec);
        Assert.Equal(GuardAction.Good, verdict.Action);
        Assert.Equal((new WeightsVersion(1, 2), new WeightsVersion(1, 3), 1_200L), (verdict.From!.Value, verdict.To!.Value, verdict.Pairs));
    }

    [Fact]
    public void Versions_at_or_before_the_good_one_and_below_the_floor_are_not_judged()
    {
        // A rolled-back line (v1+2, v1+3) and a resumed one from checkpoint 2: only checkpoint 2's versions count.
        var versions = new List<ServedQuality> { Version(1, 1, 2_000, 0.3, 0.3), Version(1, 2, 2_000, 0.9, 0.3), Version(1, 3, 2_000, 0.9, 0.3), Version(2, 0, 400, 0.3, 0.3), Version(2, 1, 400, 0.3, 0.3, seed: 2) };
        Assert.Equal(GuardAction.Rollback, ServedGuard.Judge(versions, new WeightsVersion(1, 1), Spec).Action);
        var waiting = ServedGuard.Judge(versions, new WeightsVersion(1, 1), Spec, floor: new WeightsVersion(2));
        Assert.Equal((GuardAction.Wait, 800L), (waiting.Action, waiting.Pairs));
        versions.Add(Version(2, 2, 400, 0.3, 0.3, seed: 3));
        var verdict = ServedGuard.Judge(versions, new WeightsVersion(1, 1), Spec, floor: new WeightsVersion(2));
        Assert.Equal(GuardAction.Good, verdict.Action);
        Assert.Equal((new WeightsVersion(2), new WeightsVersion(2, 2)), (verdict.From!.Value, verdict.To!.Value));
    }

    [Fact]
    public void Bad_settings_are_named_with_their_fix()
    {
        var problems = new GuardSpec { ShadowShare = 0, MinPairs = 5, Tolerance = -1, Z = 20, CheckEvery = TimeSpan.Zero }.Problems();
        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("feedback.guard.shadowShare: 0;", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("feedback.guard.minPairs: 5; use at least 30", StringComparison.Ordinal));
        Assert.Empty(new GuardSpec().Problems());
        Assert.Contains(new FeedbackSpec { Guard = new GuardSpec { Z = 0 } }.Problems(), p => p.StartsWith("feedback.guard.z", StringComparison.Ordinal));
    }
}
