using Freshet.Model.Data;
using Freshet.Model.Metrics;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

/// <summary>
/// A trainer fed without end keeps its progressive metrics in bounded form: the same figures as every sample kept (AUC to
/// a histogram bin's width), in memory that does not grow with the samples.
/// </summary>
[Collection(HeapMeasured.Name)]
public class BoundedEvaluationTests
{
    private static readonly string[] Names = ["item", "mean"];

    /// <summary>Scores that tell the label a little, at a low base rate (most mass near 0, where probability bins are coarse).</summary>
    private static IEnumerable<(float Score, float Label, float Baseline, float Oracle, long Time, ulong Group)> Stream(int n, int seed, double baseRate = 0.03)
    {
        var rng = new Random(seed);
        var start = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc).Ticks;
        for (var i = 0; i < n; i++)
        {
            var logit = Math.Log(baseRate / (1 - baseRate)) + rng.NextDouble() * 2 - 1;
            var p = 1 / (1 + Math.Exp(-logit));
            var label = rng.NextDouble() < p ? 1f : 0f;
            var noisy = (float)(1 / (1 + Math.Exp(-(logit + Gaussian(rng) * 0.8))));
            var baseline = (float)(1 / (1 + Math.Exp(-(logit + Gaussian(rng) * 1.5))));
            // Ten-minute windows' worth per 2,000 samples; groups of 20 consecutive samples (a page view).
            yield return (noisy, label, baseline, (float)p, start + i * (TimeSpan.TicksPerMinute * 10 / 2000), (ulong)(i / 20));
        }
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void Bounded_figures_match_the_per_sample_ones()
    {
        var exact = new TaskEvaluation(TaskKind.Ctr, TimeSpan.FromHours(1), Names, detail: EvaluationDetail.PerSample);
        var closed = new List<double>();
        var bounded = new TaskEvaluation(TaskKind.Ctr, TimeSpan.FromHours(1), Names, closed.Add);
        foreach (var (s, l, b, o, t, g) in Stream(100_000, 5))
        {
            exact.Add(s, l, b, o, t, g, [b, (b + s) / 2]);
            bounded.Add(s, l, b, o, t, g, [b, (b + s) / 2]);
        }
        var e = exact.Report();
        var a = bounded.Report();
        Assert.Equal(e.Samples, a.Samples);
        Assert.Equal(e.Positives, a.Positives);
        // A bin is 0.004 wide in log-odds: pairs within one count half, so AUC is within about a thousandth.
        Assert.Equal(e.Auc!.Value, a.Auc!.Value, 0.001);
        Assert.Equal(e.BaselineAuc!.Value, a.BaselineAuc!.Value, 0.001);
        Assert.Equal(e.OracleAuc!.Value, a.OracleAuc!.Value, 0.001);
        Assert.Equal(e.LogLoss!.Value, a.LogLoss!.Value, 1e-9);
        Assert.Equal(e.BaselineLogLoss!.Value, a.BaselineLogLoss!.Value, 1e-9);
        Assert.Equal(e.Baselines!["item"]!.Value, a.Baselines!["item"]!.Value, 0.001);
        Assert.Equal(e.Baselines["mean"]!.Value, a.Baselines["mean"]!.Value, 0.001);
        // Groups come together here, so closing the oldest loses none.
        Assert.Equal(e.Groups, a.Groups);
        Assert.Equal(e.GroupAuc!.Value, a.GroupAuc!.Value, 1e-9);
        Assert.Equal(e.Windows.Select(w => (w.Start, w.Samples, w.Positives)), a.Windows.Select(w => (w.Start, w.Samples, w.Positives)));
        foreach (var (x, y) in e.Windows.Zip(a.Windows)) Assert.Equal(x.Auc!.Value, y.Auc!.Value, 0.002);
        // Every window but the last (still open) was heard as it closed.
        Assert.Equal(a.Windows.Count - 1, closed.Count);
        Assert.Equal(0, bounded.LateSamples);
    }

    [Fact]
    public void A_trainer_fed_without_end_holds_a_bounded_number_of_samples()
    {
        var evaluation = new TaskEvaluation(TaskKind.Ctr, TimeSpan.FromMinutes(10), Names);
        var held = new List<long>();
        var i = 0;
        foreach (var (s, l, b, o, t, g) in Stream(600_000, 9))
        {
            evaluation.Add(s, l, b, o, t, g, [b, s]);
            if (++i % 100_000 == 0) held.Add(evaluation.HeldSamples);
        }
        var bound = TaskEvaluation.RecentKept + RunningGroupAuc.DefaultMaxHeld;
        Assert.All(held, h => Assert.True(h <= bound, $"held {h} samples, more than {bound}"));
        // Closed windows are kept as figures, the latest at most.
        Assert.True(evaluation.Report().Windows.Count <= TaskEvaluation.MaxWindows + TaskEvaluation.MaxOpenWindows);
        Assert.Equal(600_000, evaluation.Report().Samples);
    }

    [Fact]
    public void What_a_bounded_evaluation_retains_does_not_grow_with_the_samples()
    {
        // Measured as the process's live heap: this failed when every score, label, baseline, time and group was kept
        // (about 40 bytes a sample, 24 MB here) and holds only the aggregates now.
        var evaluation = new TaskEvaluation(TaskKind.Ctr, TimeSpan.FromHours(1), Names);
        var stream = Stream(700_000, 11).ToArray();
        foreach (var (s, l, b, o, t, g) in stream.Take(100_000)) evaluation.Add(s, l, b, o, t, g, [b, s]);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var (s, l, b, o, t, g) in stream.Skip(100_000)) evaluation.Add(s, l, b, o, t, g, [b, s]);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(evaluation);
        Assert.True(after - before < 4_000_000, $"600,000 more samples grew the heap by {(after - before) / 1e6:F1} MB");
    }

    [Fact]
    public void A_sample_for_a_window_already_closed_counts_overall_but_not_in_a_window()
    {
        var evaluation = new TaskEvaluation(TaskKind.Ctr, TimeSpan.FromHours(1));
        var start = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc).Ticks;
        evaluation.Add(0.2f, 1, 0.5f, float.NaN, start, null);
        evaluation.Add(0.1f, 0, 0.5f, float.NaN, start + TimeSpan.TicksPerHour * 3, null);
        evaluation.Add(0.3f, 1, 0.5f, float.NaN, start + TimeSpan.TicksPerMinute, null);
        var report = evaluation.Report();
        Assert.Equal(3, report.Samples);
        Assert.Equal(1, evaluation.LateSamples);
        Assert.Equal([1L, 1L], report.Windows.Select(w => w.Samples));
        Assert.Null(report.OracleAuc);
        Assert.Null(report.GroupAuc);
    }

    [Fact]
    public void Far_apart_times_keep_only_a_few_windows_open()
    {
        var evaluation = new TaskEvaluation(TaskKind.Ctr, TimeSpan.FromHours(1));
        var start = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc).Ticks;
        // Out of order, every hour its own window: the oldest close as more open.
        var hours = new[] { 5, 1, 6, 2, 7, 3, 8, 4 };
        foreach (var h in hours) evaluation.Add(0.5f, h % 2, 0.5f, float.NaN, start + h * TimeSpan.TicksPerHour, null);
        Assert.True(evaluation.Report().Windows.Count <= hours.Length);
        Assert.Equal(hours.Length, evaluation.Report().Samples);
    }

    [Fact]
    public void Logit_bins_resolve_low_rates()
    {
        // Scores of 0.1% against 0.2%: the same 1/1000 bin of [0, 1], apart in log-odds.
        var histogram = new LogitHistogram();
        for (var i = 0; i < 100; i++)
        {
            histogram.Add(0.001f, 0);
            histogram.Add(0.002f, 1);
        }
        Assert.Equal(1.0, histogram.Auc());
        histogram.Add(float.NaN, 1);
        Assert.True(double.IsNaN(histogram.Auc()));
    }

    [Fact]
    public void A_running_rate_keeps_as_many_keys_as_its_table_and_forgets_the_expired()
    {
        var hour = TimeSpan.TicksPerHour;
        var baseline = new PopularityBaseline(10, maxKeys: 1_000, expireAfter: TimeSpan.FromHours(2));
        for (ulong k = 0; k < 10_000; k++) baseline.Update(k, k % 3 == 0 ? 1 : 0, (long)k * hour / 1000);
        Assert.True(baseline.Keys <= 1_000, $"{baseline.Keys} keys");
        Assert.True(baseline.Evicted >= 9_000);
        // The latest key is held; the first, long gone, scores the global rate as a new key does.
        Assert.NotEqual(baseline.Score(ulong.MaxValue), baseline.Score(9_999));
        Assert.Equal(baseline.Score(ulong.MaxValue), baseline.Score(0));
        // Two hours after the last update, everything not seen since then goes.
        var now = 10_000L * hour / 1000 + 3 * hour;
        Assert.Equal(baseline.Keys, baseline.Expire(now));
        Assert.Equal(0, baseline.Keys);
    }
}
