
namespace Freshet.Feedback;

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
