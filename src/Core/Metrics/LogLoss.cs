namespace Freshet.Model.Metrics;

/// <summary>Mean binary cross-entropy of probabilities, clipped away from 0 and 1.</summary>
public static class LogLoss
{
    private const double Clip = 1e-7;

    public static double Compute(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels)
    {
        if (probabilities.Length == 0) return double.NaN;
        double sum = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = Math.Clamp(probabilities[i], Clip, 1 - Clip);
            sum -= labels[i] > 0.5f ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / probabilities.Length;
    }
}
