namespace Freshet.Model.Metrics;

/// <summary>
/// Labelled scores counted in bins of equal width on the log-odds scale, so a click rate of 0.2% is resolved as
/// finely as one of 20%: AUC counts pairs within one bin as half right, so it is exact to a bin's width in log-odds
/// (<see cref="Width"/>, about 0.004, a 0.4% change of the odds), whatever the base rate. Its size is fixed however
/// many scores it has counted: what a trainer that runs for months keeps instead of every score.
/// </summary>
public sealed class LogitHistogram
{
    /// <summary>Bins over the log-odds range [-<see cref="Range"/>, <see cref="Range"/>]; scores beyond it count in the end bins.</summary>
    public const int Bins = 8192;

    /// <summary>Half the log-odds range binned (a float probability's log-odds is within about ±16.6 of 0 at 1 - 6e-8).</summary>
    public const double Range = 16;

    /// <summary>The width of a bin in log-odds.</summary>
    public const double Width = 2 * Range / Bins;

    private readonly long[] _positives = new long[Bins];
    private readonly long[] _negatives = new long[Bins];

    public long Count { get; private set; }

    public long PositiveCount { get; private set; }

    /// <summary>Whether a NaN score was counted: then there is no order to rank by, and the AUC is undefined (as the exact one is).</summary>
    public bool HasNaN { get; private set; }

    /// <summary>Approximate bytes held.</summary>
    public static int BytesHeld => 2 * Bins * sizeof(long);

    public void Add(float score, float label)
    {
        if (float.IsNaN(score))
        {
            HasNaN = true;
            return;
        }
        var bin = BinOf(score);
        if (label > 0.5f)
        {
            _positives[bin]++;
            PositiveCount++;
        }
        else
        {
            _negatives[bin]++;
        }
        Count++;
    }

    /// <summary>The bin of a probability: its log-odds, clamped to the range.</summary>
    public static int BinOf(float score)
    {
        double p = score;
        if (p <= 0) return 0;
        if (p >= 1) return Bins - 1;
        var logit = Math.Log(p) - Math.Log(1 - p);
        var bin = (int)Math.Floor((logit + Range) / Width);
        return Math.Clamp(bin, 0, Bins - 1);
    }

    /// <summary>AUC with ties within a bin counting half, or NaN without both labels or with a NaN score.</summary>
    public double Auc()
    {
        var negativesTotal = Count - PositiveCount;
        if (HasNaN || PositiveCount == 0 || negativesTotal == 0) return double.NaN;
        double below = 0, right = 0;
        for (var i = 0; i < Bins; i++)
        {
            right += _positives[i] * (below + 0.5 * _negatives[i]);
            below += _negatives[i];
        }
        return right / ((double)PositiveCount * negativesTotal);
    }
}
