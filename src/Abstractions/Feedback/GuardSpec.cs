using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>
/// The served-quality guard of a deployment with a feedback loop (docs/FEEDBACK.md). Serving keeps the last good
/// weights beside the ones it serves and scores a share of the calls with both (<see cref="ShadowShare"/>); once each
/// shadowed impression's click window has closed, its joiner adds the difference of the two answers' log-loss to the
/// sums of that pair of versions (served, shadow). Every <see cref="CheckEvery"/> the deployment judges the line since
/// the good weights, the version being served included, on the pairs those good weights shadowed, with a sequential
/// test (<see cref="MixtureSprt"/>, <see cref="ServedGuard"/>): worse by more than <see cref="Tolerance"/> at false-alarm
/// probability <see cref="FalseAlarm"/> however many checks look, serving goes back to the good weights and publishing
/// halts; at <see cref="MinPairs"/> pairs without that, the oldest of those versions becomes the good one.
/// </summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-spec")]
public sealed record GuardSpec
{
    /// <summary>Share of scoring calls also scored with the last good weights (0 to 1; each such call costs a second score).</summary>
    [Id(0)] public double ShadowShare { get; init; } = 0.1;

    /// <summary>
    /// Paired rows (shadowed impressions whose click window has closed) after which a line that was not found worse
    /// becomes good; the sequential test is tuned to decide at this many, and may roll back from a quarter of it.
    /// </summary>
    [Id(1)] public int MinPairs { get; init; } = 2_000;

    /// <summary>
    /// How much worse than the good weights' mean log-loss, relative, the line may be (0.02: 2%): the test asks whether it
    /// is worse by more than this, so the small ups and downs of online updates never roll back.
    /// </summary>
    [Id(2)] public double Tolerance { get; init; } = 0.02;

    // Id 3 was Z, the threshold of a z-test repeated at every check with no correction for the repeated looks; retired
    // for FalseAlarm, which holds over every look.

    /// <summary>How often the deployment judges, on its clock.</summary>
    [Id(4)] public TimeSpan CheckEvery { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most the chance may be that a line no worse than the tolerance is rolled back, per good version it is judged
    /// against, however many checks look at it (0.001). A good version is replaced only after <see cref="MinPairs"/>
    /// pairs of its own, so false rollbacks are at most <c>FalseAlarm</c> per <see cref="MinPairs"/> shadowed rows, however
    /// often the guard checks.
    /// </summary>
    [Id(5)] public double FalseAlarm { get; init; } = 0.001;

    /// <summary>Every problem of the settings, each naming its field and the fix; empty when they are good.</summary>
    public IReadOnlyList<string> Problems() =>
    [
        .. new[]
        {
            ShadowShare is <= 0 or > 1 || double.IsNaN(ShadowShare) ? $"feedback.guard.shadowShare: {ShadowShare}; use a share above 0 and at most 1 (0.1 shadow-scores one call in ten)" : null,
            MinPairs < 30 ? $"feedback.guard.minPairs: {MinPairs}; use at least 30 (a paired z-test needs a sample; 2000 is usual)" : null,
            Tolerance is < 0 or > 10 || double.IsNaN(Tolerance) ? $"feedback.guard.tolerance: {Tolerance}; use 0 to 10 (0.02: roll back when 2% worse)" : null,
            FalseAlarm is <= 0 or > 0.2 || double.IsNaN(FalseAlarm) ? $"feedback.guard.falseAlarm: {FalseAlarm}; use above 0 and at most 0.2 (0.001: one false rollback at most per thousand good versions judged)" : null,
            CheckEvery <= TimeSpan.Zero ? $"feedback.guard.checkEvery: {CheckEvery}; must be positive (1m is usual)" : null,
        }.OfType<string>(),
    ];
}

/// <summary>
/// Sums of paired per-row log-loss differences (served minus good) over rows both answered, for one pair of versions
/// (see <see cref="ServedQuality.PairedWith"/>); they add up across joiners.
/// </summary>
[GenerateSerializer, Alias("freshet.paired-loss")]
public sealed class PairedLoss
{
    [Id(0)] public long Count { get; set; }

    /// <summary>Sum of (served log-loss - good log-loss).</summary>
    [Id(1)] public double SumDiff { get; set; }

    [Id(2)] public double SumDiffSquared { get; set; }

    /// <summary>Sum of the good weights' log-loss on the same rows.</summary>
    [Id(3)] public double SumGood { get; set; }

    /// <summary>Sums of the good log-loss squared and of its product with the difference: the spread of the difference beyond a tolerance (<see cref="Margin"/>).</summary>
    [Id(4)] public double SumGoodSquared { get; set; }

    [Id(5)] public double SumDiffGood { get; set; }

    public void Add(double served, double good)
    {
        var d = served - good;
        Count++;
        SumDiff += d;
        SumDiffSquared += d * d;
        SumGood += good;
        SumGoodSquared += good * good;
        SumDiffGood += d * good;
    }

    public void Add(PairedLoss other)
    {
        Count += other.Count;
        SumDiff += other.SumDiff;
        SumDiffSquared += other.SumDiffSquared;
        SumGood += other.SumGood;
        SumGoodSquared += other.SumGoodSquared;
        SumDiffGood += other.SumDiffGood;
    }

    /// <summary>
    /// Mean and sample variance of each row's difference beyond the tolerance, d = served - good - tolerance × good:
    /// "served ≤ good × (1 + tolerance)" is "the mean of d ≤ 0", row by row.
    /// </summary>
    public (double Mean, double Variance) Margin(double tolerance)
    {
        if (Count == 0) return (0, 0);
        var n = (double)Count;
        var sum = SumDiff - tolerance * SumGood;
        var sumSquares = SumDiffSquared - 2 * tolerance * SumDiffGood + tolerance * tolerance * SumGoodSquared;
        var mean = sum / n;
        return (mean, n > 1 ? Math.Max(0, (sumSquares - n * mean * mean) / (n - 1)) : 0);
    }
}

/// <summary>Where training starts again when publishing resumes after a guard rollback.</summary>
[GenerateSerializer, Alias("freshet.resume-from")]
public enum ResumeFrom
{
    /// <summary>
    /// The good weights' full checkpoint: the main job's training state is restored from it, so what the rolled-back
    /// line learned (from poisoned labels, a corrupted update) is discarded along with the training since that checkpoint.
    /// </summary>
    Good,

    /// <summary>The training line as it stands (a false alarm, or a fault that never reached training).</summary>
    Line,
}

/// <summary>What the guard decided at one check.</summary>
[GenerateSerializer, Alias("freshet.guard-action")]
public enum GuardAction
{
    /// <summary>Not found worse, and fewer than <see cref="GuardSpec.MinPairs"/> pairs against the good weights yet.</summary>
    Wait,

    /// <summary>The judged versions are no worse on <see cref="GuardSpec.MinPairs"/> pairs: the oldest of them becomes the good one.</summary>
    Good,

    /// <summary>The judged versions are worse: serving goes back to the good weights and publishing halts.</summary>
    Rollback,
}

/// <summary>One check of the guard, with both figures on the same rows.</summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-verdict")]
public sealed record GuardVerdict
{
    [Id(0)] public GuardAction Action { get; init; }

    /// <summary>The good weights the line was compared with: the version that shadowed every judged row.</summary>
    [Id(1)] public WeightsVersion Good { get; init; }

    /// <summary>The oldest and newest served versions judged (the oldest becomes good on <see cref="GuardAction.Good"/>); null before the first look.</summary>
    [Id(2)] public WeightsVersion? From { get; init; }
    [Id(3)] public WeightsVersion? To { get; init; }

    /// <summary>Paired rows judged.</summary>
    [Id(4)] public long Pairs { get; init; }

    /// <summary>Mean CTR log-loss of what serving answered, and of the good weights, on those rows.</summary>
    [Id(5)] public double ServedLogLoss { get; init; }
    [Id(6)] public double GoodLogLoss { get; init; }

    /// <summary>The one-sided paired z statistic of served minus good.</summary>
    [Id(7)] public double Z { get; init; }

    /// <summary>The test's statistic: the same, of each row's served minus good beyond the tolerance (served - good - tolerance × good); a rollback needs it at <see cref="Boundary"/> or above.</summary>
    [Id(8)] public double MarginZ { get; init; }

    /// <summary>The z a rollback needs at this many pairs, so that no number of looks makes a false one likelier than <see cref="GuardSpec.FalseAlarm"/> (<see cref="MixtureSprt.Boundary"/>).</summary>
    [Id(9)] public double Boundary { get; init; }

    /// <summary>(served - good) / good.</summary>
    public double Relative => GoodLogLoss > 0 ? (ServedLogLoss - GoodLogLoss) / GoodLogLoss : 0;

    public override string ToString() => From is null
        ? $"waiting: {Pairs} pairs against {Good} with their click windows closed"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{(Action == GuardAction.Wait ? "not worse yet: " : "")}{From}..{To} against {Good} on {Pairs} paired rows: log-loss {ServedLogLoss:F4} served, {GoodLogLoss:F4} good ({Relative:+0.0%;-0.0%}), z {Z:F2}, beyond the tolerance {MarginZ:F2} (a rollback needs {Boundary:F2})");
}

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

/// <summary>The guard's state, in deployment status.</summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-status")]
public sealed record GuardStatus
{
    /// <summary>The last good weights (what serving goes back to); null until the first publish is judged.</summary>
    [Id(0)] public WeightsVersion? Good { get; init; }

    /// <summary>A rollback halted publishing: <c>freshet resume</c> (a full checkpoint serving switches to) starts a new line.</summary>
    [Id(1)] public bool Halted { get; init; }

    [Id(2)] public int Rollbacks { get; init; }

    /// <summary>Checks that made a version good.</summary>
    [Id(3)] public int Promotions { get; init; }

    /// <summary>The latest check, and the verdict of the latest rollback.</summary>
    [Id(4)] public GuardVerdict? Last { get; init; }
    [Id(5)] public GuardVerdict? LastRollback { get; init; }
    [Id(6)] public DateTime? LastRollbackTime { get; init; }
}
