using Freshet.Feedback;
using Freshet.Model.Serving;

namespace Freshet.Grains.Feedback;

/// <summary>
/// The guard's test, a sequential one: H0 "served ≤ good × (1 + tolerance)", row by row, on the per-row CTR log-loss
/// differences of the rows the good weights shadowed, tested by a mixture SPRT (<see cref="MixtureSprt"/>) at every
/// check, so that looking at every check costs no more false alarms than looking once: at most
/// <see cref="GuardSpec.FalseAlarm"/> per good version judged against.
/// </summary>
public static class ServedGuard
{
    /// <summary>The pairs before the first look: a quarter of <see cref="GuardSpec.MinPairs"/>, at least 30, so the spread estimated from the rows is steady enough for the test's plug-in.</summary>
    public static long FirstLook(GuardSpec spec) => Math.Max(30, spec.MinPairs / 4);

    /// <summary>
    /// Judges the line since <paramref name="good"/>: every version after it in <paramref name="versions"/> (merged across
    /// joiners), the one being served included, on their pairs against <paramref name="good"/> itself (rows another
    /// good version shadowed belong to that version's test). Pairs count once their click window has closed, so the
    /// sums grow while a version is served and the test looks at them as they grow. A rollback when the margin z reaches
    /// the sequential boundary; at <see cref="GuardSpec.MinPairs"/> pairs without that, the oldest version judged
    /// becomes good (every judged row was answered by weights that include it). Versions older than
    /// <paramref name="floor"/> (a line rolled back before a resume) are not judged.
    /// </summary>
    public static GuardVerdict Judge(IEnumerable<ServedQuality> versions, WeightsVersion good, GuardSpec spec, WeightsVersion? floor = null)
    {
        var line = versions
            .Where(v => v.Weights > good && (floor is not { } f || v.Weights >= f) && v.PairedWith.TryGetValue(good, out var p) && p.Count > 0)
            .OrderBy(v => v.Weights)
            .ToList();
        var sum = new PairedLoss();
        foreach (var v in line) sum.Add(v.PairedWith[good]);
        if (sum.Count < FirstLook(spec)) return new GuardVerdict { Action = GuardAction.Wait, Good = good, Pairs = sum.Count };
        var n = (double)sum.Count;
        var mean = sum.SumDiff / n;
        var variance = Math.Max(0, (sum.SumDiffSquared - n * mean * mean) / (n - 1));
        var z = Z(mean, variance, n);
        var (beyond, marginVariance) = sum.Margin(spec.Tolerance);
        var marginZ = Z(beyond, marginVariance, n);
        var boundary = MixtureSprt.Boundary(sum.Count, spec.MinPairs, spec.FalseAlarm);
        var goodLoss = sum.SumGood / n;
        return new GuardVerdict
        {
            Action = marginZ >= boundary ? GuardAction.Rollback : sum.Count >= spec.MinPairs ? GuardAction.Good : GuardAction.Wait,
            Good = good, From = line[0].Weights, To = line[^1].Weights, Pairs = sum.Count, ServedLogLoss = goodLoss + mean, GoodLogLoss = goodLoss,
            Z = z, MarginZ = marginZ, Boundary = boundary,
        };
    }

    private static double Z(double mean, double variance, double n)
    {
        var se = Math.Sqrt(variance / n);
        return se > 0 ? mean / se : mean > 0 ? double.PositiveInfinity : 0;
    }
}
