using Freshet.Feedback;
using Freshet.Grains.Feedback;
using Freshet.Model.Serving;
using Xunit.Abstractions;

namespace Freshet.Cluster.Tests;

/// <summary>The guard's verdict (<see cref="ServedGuard.Judge"/>) on paired log-losses built row by row.</summary>
public class ServedGuardTests(ITestOutputHelper output)
{
    private static readonly GuardSpec Spec = new() { MinPairs = 1_000, Tolerance = 0.02 };

    private static readonly WeightsVersion Good = new(1);

    /// <summary>One shadowed row's pair, the good weights being <paramref name="shadow"/>.</summary>
    private static void AddRow(ServedQuality q, WeightsVersion shadow, double served, double good) => q.AddPair(shadow, served, good);

    private static ServedQuality Version(long checkpoint, long delta, int rows, double servedLoss, double goodLoss, bool settled = true, int seed = 1, WeightsVersion? shadow = null)
    {
        var q = new ServedQuality { Weights = new WeightsVersion(checkpoint, delta), Settled = settled };
        var rng = new Random(seed);
        for (var i = 0; i < rows; i++)
        {
            // Per-row losses scatter around their means; the same row's two answers share most of their noise.
            var noise = (rng.NextDouble() - 0.5) * 0.4;
            AddRow(q, shadow ?? Good, servedLoss + noise + (rng.NextDouble() - 0.5) * 0.05, goodLoss + noise);
        }
        return q;
    }

    [Fact]
    public void Too_few_pairs_wait()
    {
        // A quarter of MinPairs is the first look: before it nothing is decided, however bad it looks.
        var verdict = ServedGuard.Judge([Version(1, 1, 100, 0.5, 0.3), Version(1, 2, 100, 0.5, 0.3, settled: false)], Good, Spec);
        Assert.Equal(GuardAction.Wait, verdict.Action);
        Assert.Equal(200, verdict.Pairs);
        Assert.Null(verdict.From);
    }

    [Fact]
    public void A_clearly_worse_line_is_rolled_back_with_both_figures()
    {
        var verdict = ServedGuard.Judge([Version(1, 1, 1_200, 0.40, 0.30)], Good, Spec);
        Assert.Equal(GuardAction.Rollback, verdict.Action);
        Assert.Equal(0.30, verdict.GoodLogLoss, 2);
        Assert.Equal(0.40, verdict.ServedLogLoss, 2);
        Assert.True(verdict.Z > 10);
        Assert.True(verdict.MarginZ >= verdict.Boundary, verdict.ToString());
    }

    [Fact]
    public void A_clearly_worse_version_still_served_is_rolled_back_before_min_pairs()
    {
        // The version being served (not settled: its rows keep coming) with 300 pairs whose click windows closed: a
        // sequential test may stop at any look, so a bad version need not wait for MinPairs.
        var verdict = ServedGuard.Judge([Version(1, 1, 300, 0.40, 0.30, settled: false)], Good, Spec);
        Assert.Equal(GuardAction.Rollback, verdict.Action);
        Assert.Equal((new WeightsVersion(1, 1), new WeightsVersion(1, 1), 300L), (verdict.From!.Value, verdict.To!.Value, verdict.Pairs));
    }

    [Fact]
    public void A_line_not_found_worse_waits_for_min_pairs_before_it_becomes_good()
    {
        var waiting = ServedGuard.Judge([Version(1, 1, 600, 0.3, 0.3, settled: false)], Good, Spec);
        Assert.Equal(GuardAction.Wait, waiting.Action);
        Assert.Equal(new WeightsVersion(1, 1), waiting.From);
        Assert.Equal(GuardAction.Good, ServedGuard.Judge([Version(1, 1, 1_000, 0.3, 0.3, settled: false)], Good, Spec).Action);
    }

    [Fact]
    public void Significantly_but_slightly_worse_is_within_the_tolerance()
    {
        // 1% worse with a tight spread: significant, yet under the 2% tolerance.
        var verdict = ServedGuard.Judge([Version(1, 1, 5_000, 0.303, 0.300)], Good, Spec);
        Assert.True(verdict.Z > verdict.Boundary, verdict.ToString());
        Assert.Equal(GuardAction.Good, verdict.Action);
    }

    [Fact]
    public void The_line_since_the_good_weights_is_judged_and_its_oldest_version_becomes_good()
    {
        var versions = new[] { Version(1, 1, 800, 0.3, 0.3), Version(1, 2, 600, 0.3, 0.3, seed: 2), Version(1, 3, 600, 0.3, 0.3, seed: 3, settled: false) };
        var verdict = ServedGuard.Judge(versions, Good, Spec);
        Assert.Equal(GuardAction.Good, verdict.Action);
        Assert.Equal((new WeightsVersion(1, 1), new WeightsVersion(1, 3), 2_000L), (verdict.From!.Value, verdict.To!.Value, verdict.Pairs));
    }

    [Fact]
    public void Versions_at_or_before_the_good_one_and_below_the_floor_are_not_judged()
    {
        // A rolled-back line (v1+2, v1+3) and a resumed one from checkpoint 2, all shadowed by the good v1+1: only checkpoint 2's versions count.
        var good = new WeightsVersion(1, 1);
        var versions = new List<ServedQuality>
        {
            Version(1, 1, 2_000, 0.3, 0.3), Version(1, 2, 2_000, 0.9, 0.3, shadow: good), Version(1, 3, 2_000, 0.9, 0.3, shadow: good),
            Version(2, 0, 400, 0.3, 0.3, shadow: good), Version(2, 1, 400, 0.3, 0.3, seed: 2, shadow: good),
        };
        Assert.Equal(GuardAction.Rollback, ServedGuard.Judge(versions, good, Spec).Action);
        var waiting = ServedGuard.Judge(versions, good, Spec, floor: new WeightsVersion(2));
        Assert.Equal((GuardAction.Wait, 800L), (waiting.Action, waiting.Pairs));
        versions.Add(Version(2, 2, 400, 0.3, 0.3, seed: 3, shadow: good));
        var verdict = ServedGuard.Judge(versions, good, Spec, floor: new WeightsVersion(2));
        Assert.Equal(GuardAction.Good, verdict.Action);
        Assert.Equal((new WeightsVersion(2), new WeightsVersion(2, 2)), (verdict.From!.Value, verdict.To!.Value));
    }

    [Fact]
    public void Pairs_are_judged_against_the_version_that_shadowed_them()
    {
        // v1+1 was a big improvement on v1 and was made good; v1+2 then got 5% worse than v1+1. Its rows scored before
        // the replicas loaded the new good copy were shadowed by v1 (and look far better than it), the later ones by v1+1.
        var improved = new WeightsVersion(1, 1);
        var served = new ServedQuality { Weights = new WeightsVersion(1, 2), Settled = true };
        var rng = new Random(5);
        for (var i = 0; i < 3_000; i++)
        {
            var noise = rng.NextDouble() * 0.4;
            var jitter = (rng.NextDouble() - 0.5) * 0.02;
            if (i < 1_500) AddRow(served, Good, 0.315 + noise + jitter, 0.45 + noise);
            else AddRow(served, improved, 0.315 + noise + jitter, 0.30 + noise);
        }
        var verdict = ServedGuard.Judge([served], improved, Spec);
        Assert.Equal(GuardAction.Rollback, verdict.Action);
        Assert.Equal(1_500, verdict.Pairs);
        Assert.Equal(0.30 + 0.2, verdict.GoodLogLoss, 2);
    }

    /// <summary>
    /// The deployment's loop of checks on a line that is never worse than the tolerance allows (each row's served loss
    /// is the good one's times 1 + tolerance, plus right-skewed noise of mean 0: the worst case the test must pass):
    /// a check every <paramref name="rowsPerCheck"/> pairs, a publish every two checks, a Good verdict moving the good
    /// weights to its oldest judged version (whose copy then shadows the rows that follow), a rollback counted and a new
    /// line started. Returns the rollbacks and the pairs judged.
    /// </summary>
    private static (int Rollbacks, int Promotions, long Pairs) Loop(GuardSpec spec, int rowsPerCheck, long pairs, int seed)
    {
        var rng = new Random(seed);
        var good = new WeightsVersion(1);
        var versions = new List<ServedQuality>();
        var served = new ServedQuality { Weights = new WeightsVersion(1, 1) };
        versions.Add(served);
        WeightsVersion? floor = null;
        int rollbacks = 0, promotions = 0;
        long rows = 0;
        for (var check = 0; rows < pairs; check++)
        {
            // Serving the good weights themselves shadows nothing: a publish brings the next version.
            if (served.Weights != good)
            {
                for (var i = 0; i < rowsPerCheck; i++, rows++)
                {
                    var goodLoss = -Math.Log(rng.NextDouble() < 0.1 ? 0.1 : 0.9) * (0.5 + rng.NextDouble());
                    var skewed = 0.1 * (-Math.Log(1 - rng.NextDouble()) - 1);
                    AddRow(served, good, (1 + spec.Tolerance) * goodLoss + skewed, goodLoss);
                }
            }
            var verdict = ServedGuard.Judge(versions, good, spec, floor);
            if (verdict.Action == GuardAction.Good)
            {
                good = verdict.From!.Value;
                promotions++;
                versions.RemoveAll(v => v.Weights < good); // a joiner keeps the latest versions only
            }
            else if (verdict.Action == GuardAction.Rollback)
            {
                // Resumed: a new line from the next version, judged against the same good weights.
                rollbacks++;
                floor = served.Weights.NextDelta();
                versions.RemoveAll(v => v.Weights < floor);
            }
            if (check % 2 == 1 || verdict.Action == GuardAction.Rollback)
            {
                served.Settled = true;
                served = new ServedQuality { Weights = served.Weights.NextDelta() };
                versions.Add(served);
            }
        }
        return (rollbacks, promotions, rows);
    }

    [Fact]
    public void Many_looks_at_a_line_that_is_not_worse_roll_back_no_more_often_than_the_stated_rate()
    {
        // At a false-alarm rate high enough to count (5%): a look every 50 pairs, so each good version is looked at
        // about 16 times from the first look (250 pairs) to MinPairs (1,000). The stated rate: at most FalseAlarm per
        // good version judged, each judged on MinPairs pairs of its own, so at most FalseAlarm × pairs / MinPairs.
        var spec = Spec with { FalseAlarm = 0.05 };
        var (rollbacks, promotions, pairs) = Loop(spec, rowsPerCheck: 50, pairs: 1_000_000, seed: 7);
        var allowed = spec.FalseAlarm * pairs / spec.MinPairs;
        output.WriteLine($"{rollbacks} rollbacks and {promotions} good verdicts on {pairs:N0} pairs; the stated rate allows {allowed:F1}");
        Assert.True(promotions > 500, $"only {promotions} good verdicts on {pairs:N0} pairs: the guard should make a version good every {spec.MinPairs} pairs or so");
        Assert.True(rollbacks <= allowed, $"{rollbacks} false rollbacks on {pairs:N0} pairs of a line that is not worse; at most {allowed:F1} stated");
    }

    [Fact]
    public void The_default_false_alarm_rate_holds_on_a_line_looked_at_every_few_rows()
    {
        // The defaults (0.001) on a look every 20 pairs: 2,000 good versions judged, each looked at about 37 times.
        var (rollbacks, promotions, pairs) = Loop(Spec, rowsPerCheck: 20, pairs: 2_000_000, seed: 8);
        output.WriteLine($"{rollbacks} rollbacks and {promotions} good verdicts on {pairs:N0} pairs");
        Assert.True(rollbacks <= Spec.FalseAlarm * pairs / Spec.MinPairs, $"{rollbacks} false rollbacks; at most {Spec.FalseAlarm * pairs / Spec.MinPairs:F1} stated");
    }

    [Fact]
    public void The_boundary_is_lowest_at_min_pairs_and_needs_more_than_a_single_test()
    {
        // One test at 0.001 needs z 3.09; looking any number of times, the mixture needs about 4.2 at the planned size.
        var atPlanned = MixtureSprt.Boundary(1_000, 1_000, 0.001);
        Assert.InRange(atPlanned, 4.1, 4.3);
        Assert.True(MixtureSprt.Boundary(250, 1_000, 0.001) > atPlanned);
        Assert.True(MixtureSprt.Boundary(10_000, 1_000, 0.001) > atPlanned);
        // At the boundary the mixture likelihood ratio (1 + r)^-1/2 exp(z² r / 2(1 + r)), r = n ρ, is exactly 1/α.
        var r = MixtureSprt.BestRatio(0.001);
        Assert.Equal(Math.Log(1 / 0.001), -0.5 * Math.Log(1 + r) + atPlanned * atPlanned * r / (2 * (1 + r)), 6);
    }

    [Fact]
    public void Bad_settings_are_named_with_their_fix()
    {
        var problems = new GuardSpec { ShadowShare = 0, MinPairs = 5, Tolerance = -1, FalseAlarm = 0.5, CheckEvery = TimeSpan.Zero }.Problems();
        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("feedback.guard.shadowShare: 0;", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("feedback.guard.minPairs: 5; use at least 30", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("feedback.guard.falseAlarm: 0.5; use above 0 and at most 0.2", StringComparison.Ordinal));
        Assert.Empty(new GuardSpec().Problems());
        Assert.Contains(new FeedbackSpec { Guard = new GuardSpec { FalseAlarm = 0 } }.Problems(), p => p.StartsWith("feedback.guard.falseAlarm", StringComparison.Ordinal));
        // A method number no build knows (a careless or hostile caller's) is named, not trusted.
        Assert.Equal("feedback.method: 9 is not a method; use wait, fnw or defer", Assert.Single(new FeedbackSpec { Method = (Freshet.Model.Feedback.DelayedFeedback)9 }.Problems()));
        Assert.Empty(new FeedbackSpec { Method = Freshet.Model.Feedback.DelayedFeedback.Defer }.Problems());
    }
}
