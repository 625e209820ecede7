using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>
/// The served-quality guard of a deployment with a feedback loop (docs/FEEDBACK.md). Serving keeps the last good
/// weights beside the ones it serves and scores a share of the calls with both (<see cref="ShadowShare"/>); as each
/// shadowed impression's click label settles, its joiner adds the difference of the two answers' log-loss to the
/// served version's sums. Every <see cref="CheckEvery"/> the deployment judges the newest settled versions (at least
/// <see cref="MinPairs"/> rows) with a one-sided paired z-test (<see cref="ServedGuard"/>): worse by more than
/// <see cref="Tolerance"/> with z above <see cref="Z"/>, serving goes back to the good weights and publishing halts;
/// otherwise the oldest of those versions becomes the good one.
/// </summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-spec")]
public sealed record GuardSpec
{
    /// <summary>Share of scoring calls also scored with the last good weights (0 to 1; each such call costs a second score).</summary>
    [Id(0)] public double ShadowShare { get; init; } = 0.1;

    /// <summary>Paired rows (shadowed impressions whose click label settled) a verdict needs.</summary>
    [Id(1)] public int MinPairs { get; init; } = 2_000;

    /// <summary>
    /// How much worse than the good weights' mean log-loss, relative, the line may be (0.02: 2%): the test asks whether it
    /// is worse by more than this, so the small ups and downs of online updates never roll back.
    /// </summary>
    [Id(2)] public double Tolerance { get; init; } = 0.02;

    /// <summary>The one-sided z the mean paired difference beyond the tolerance must reach to roll back (3.09: p below 0.001 for one check).</summary>
    [Id(3)] public double Z { get; init; } = 3.09;

    /// <summary>How often the deployment judges, on its clock.</summary>
    [Id(4)] public TimeSpan CheckEvery { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Every problem of the settings, each naming its field and the fix; empty when they are good.</summary>
    public IReadOnlyList<string> Problems() =>
    [
        .. new[]
        {
            ShadowShare is <= 0 or > 1 || double.IsNaN(ShadowShare) ? $"feedback.guard.shadowShare: {ShadowShare}; use a share above 0 and at most 1 (0.1 shadow-scores one call in ten)" : null,
            MinPairs < 30 ? $"feedback.guard.minPairs: {MinPairs}; use at least 30 (a paired z-test needs a sample; 2000 is usual)" : null,
            Tolerance is < 0 or > 10 || double.IsNaN(Tolerance) ? $"feedback.guard.tolerance: {Tolerance}; use 0 to 10 (0.02: roll back when 2% worse)" : null,
            Z is < 1 or > 10 || double.IsNaN(Z) ? $"feedback.guard.z: {Z}; use 1 to 10 (3.09 is p < 0.001)" : null,
            CheckEvery <= TimeSpan.Zero ? $"feedback.guard.checkEvery: {CheckEvery}; must be positive (1m is usual)" : null,
        }.OfType<string>(),
    ];
}

/// <summary>Sums of paired per-row log-loss differences (served minus good) over rows both answered; they add up across joiners.</summary>
[GenerateSerializer, Alias("freshet.paired-loss")]
public sealed class PairedLoss
{
    [Id(0)] public long Count { get; set; }

    /// <summary>Sum of (served log-loss - good log-loss).</summary>
    [Id(1)] public double SumDiff { get; set; }

    [Id(2)] public double SumDiffSquared { get; set; }

    /// <summary>Sum of the good weights' log-loss on the same rows.</summary>
    [Id(3)] public double SumGood { get; set; }

    public void Add(double served, double good)
    {
        var d = served - good;
        Count++;
        SumDiff += d;
        SumDiffSquared += d * d;
        SumGood += good;
    }

    public void Add(PairedLoss other)
    {
        Count += other.Count;
        SumDiff += other.SumDiff;
        SumDiffSquared += other.SumDiffSquared;
        SumGood += other.SumGood;
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
    /// <summary>Not enough settled paired rows yet.</summary>
    Wait,

    /// <summary>The judged versions are no worse: the oldest of them becomes the good one.</summary>
    Good,

    /// <summary>The judged versions are worse: serving goes back to the good weights and publishing halts.</summary>
    Rollback,
}

/// <summary>One check of the guard, with both figures on the same rows.</summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-verdict")]
public sealed record GuardVerdict
{
    [Id(0)] public GuardAction Action { get; init; }

    /// <summary>The good weights the line was compared with.</summary>
    [Id(1)] public WeightsVersion Good { get; init; }

    /// <summary>The oldest and newest served versions judged (the oldest becomes good on <see cref="GuardAction.Good"/>).</summary>
    [Id(2)] public WeightsVersion? From { get; init; }
    [Id(3)] public WeightsVersion? To { get; init; }

    /// <summary>Paired rows judged.</summary>
    [Id(4)] public long Pairs { get; init; }

    /// <summary>Mean CTR log-loss of what serving answered, and of the good weights, on those rows.</summary>
    [Id(5)] public double ServedLogLoss { get; init; }
    [Id(6)] public double GoodLogLoss { get; init; }

    /// <summary>The one-sided paired z statistic of served minus good.</summary>
    [Id(7)] public double Z { get; init; }

    /// <summary>The test's statistic: the same, of served minus good beyond the tolerance (served - good - tolerance × good); a rollback needs it at <see cref="GuardSpec.Z"/> or above.</summary>
    [Id(8)] public double MarginZ { get; init; }

    /// <summary>(served - good) / good.</summary>
    public double Relative => GoodLogLoss > 0 ? (ServedLogLoss - GoodLogLoss) / GoodLogLoss : 0;

    public override string ToString() => Action == GuardAction.Wait
        ? $"waiting: {Pairs} paired rows settled after {Good}"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{From}..{To} against {Good} on {Pairs} paired rows: log-loss {ServedLogLoss:F4} served, {GoodLogLoss:F4} good ({Relative:+0.0%;-0.0%}), z {Z:F2}, beyond the tolerance {MarginZ:F2}");
}

/// <summary>
/// The guard's test: a one-sided paired z-test on per-row CTR log-loss differences (served minus good) against a
/// margin, H0: served ≤ good × (1 + tolerance). It rolls back only when the line is significantly worse by more than the tolerance.
/// </summary>
public static class ServedGuard
{
    /// <summary>
    /// Judges the newest settled versions after <paramref name="good"/> in <paramref name="versions"/> (merged across
    /// joiners): from the newest back until they hold <see cref="GuardSpec.MinPairs"/> paired rows. Every one of those
    /// rows was answered by weights that include the oldest judged version's changes, so a pass makes that version good.
    /// Versions older than <paramref name="floor"/> (a line rolled back before a resume) are not judged.
    /// </summary>
    public static GuardVerdict Judge(IEnumerable<ServedQuality> versions, WeightsVersion good, GuardSpec spec, WeightsVersion? floor = null)
    {
        var settled = versions.Where(v => v.Weights > good && (floor is not { } f || v.Weights >= f) && v.Settled && v.Paired.Count > 0).OrderByDescending(v => v.Weights).ToList();
        var sum = new PairedLoss();
        WeightsVersion? from = null;
        foreach (var v in settled)
        {
            sum.Add(v.Paired);
            from = v.Weights;
            if (sum.Count >= spec.MinPairs) break;
        }
        if (sum.Count < spec.MinPairs) return new GuardVerdict { Action = GuardAction.Wait, Good = good, Pairs = sum.Count };
        var n = (double)sum.Count;
        var mean = sum.SumDiff / n;
        var variance = Math.Max(0, (sum.SumDiffSquared - n * mean * mean) / (n - 1));
        var se = Math.Sqrt(variance / n);
        var z = se > 0 ? mean / se : mean > 0 ? double.PositiveInfinity : 0;
        var goodLoss = sum.SumGood / n;
        var beyond = mean - spec.Tolerance * goodLoss;
        var marginZ = se > 0 ? beyond / se : beyond > 0 ? double.PositiveInfinity : 0;
        var verdict = new GuardVerdict
        {
            Good = good, From = from, To = settled[0].Weights, Pairs = sum.Count, ServedLogLoss = goodLoss + mean, GoodLogLoss = goodLoss, Z = z, MarginZ = marginZ,
        };
        var worse = marginZ >= spec.Z;
        return verdict with { Action = worse ? GuardAction.Rollback : GuardAction.Good };
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
