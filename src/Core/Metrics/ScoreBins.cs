namespace Freshet.Model.Metrics;

/// <summary>
/// What a model answered, against what happened, kept so that parts held in different places add up exactly:
/// labelled scores counted in <see cref="Bins"/> equal-width bins of [0, 1] per label, and the summed log-loss. AUC
/// from the bins counts pairs within one bin as half right, so it is exact to the bins' width (1/1000 by default).
/// </summary>
[GenerateSerializer, Alias("freshet.score-bins")]
public sealed class ScoreBins
{
    public const int Bins = 1000;

    [Id(0)] public long[] Positives { get; set; } = new long[Bins];
    [Id(1)] public long[] Negatives { get; set; } = new long[Bins];
    [Id(2)] public double LogLossSum { get; set; }

    public long Count => Positives.Sum() + Negatives.Sum();

    public long PositiveCount => Positives.Sum();

    public void Add(float score, float label)
    {
        var p = float.IsFinite(score) ? Math.Clamp(score, 0f, 1f) : 0.5f;
        var bin = Math.Min(Bins - 1, (int)(p * Bins));
        if (label > 0.5f) Positives[bin]++;
        else Negatives[bin]++;
        LogLossSum += LogLossOf(p, label);
    }

    /// <summary>One answer's log-loss, its score clamped to [1e-7, 1 - 1e-7].</summary>
    public static double LogLossOf(float score, float label)
    {
        var q = Math.Clamp(float.IsFinite(score) ? score : 0.5, 1e-7, 1 - 1e-7);
        return label > 0.5f ? -Math.Log(q) : -Math.Log(1 - q);
    }

    public void Add(ScoreBins other)
    {
        for (var i = 0; i < Bins; i++)
        {
            Positives[i] += other.Positives[i];
            Negatives[i] += other.Negatives[i];
        }
        LogLossSum += other.LogLossSum;
    }

    /// <summary>Mean log-loss, or null with no samples.</summary>
    public double? LogLoss => Count == 0 ? null : LogLossSum / Count;

    /// <summary>AUC (ties within a bin count half), or null without both labels.</summary>
    public double? Auc
    {
        get
        {
            double positives = PositiveCount, negatives = Negatives.Sum();
            if (positives == 0 || negatives == 0) return null;
            double below = 0, right = 0;
            for (var i = 0; i < Bins; i++)
            {
                right += Positives[i] * (below + 0.5 * Negatives[i]);
                below += Negatives[i];
            }
            return right / (positives * negatives);
        }
    }
}
