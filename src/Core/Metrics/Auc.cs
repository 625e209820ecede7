namespace Freshet.Model.Metrics;

/// <summary>Exact ROC AUC: the probability that a random positive scores above a random negative, ties counting one half.</summary>
public static class Auc
{
    /// <summary>AUC of <paramref name="scores"/> against 0/1 <paramref name="labels"/>; NaN when either class is absent or a score is NaN.</summary>
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        var n = scores.Length;
        if (n != labels.Length) throw new ArgumentException("scores and labels differ in length");
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        var keys = scores.ToArray();
        foreach (var k in keys)
        {
            if (float.IsNaN(k)) return double.NaN; // no order to rank by (and NaN equals nothing, so a run would never end)
        }
        Array.Sort(keys, order);
        double positives = 0, negatives = 0, area = 0;
        var i0 = 0;
        while (i0 < n)
        {
            // A run of equal scores: its positives beat every negative below the run, and tie with the run's negatives.
            var i1 = i0;
            double runPos = 0, runNeg = 0;
            while (i1 < n && keys[i1] == keys[i0])
            {
                if (labels[order[i1]] > 0.5f) runPos++; else runNeg++;
                i1++;
            }
            area += runPos * negatives + 0.5 * runPos * runNeg;
            positives += runPos;
            negatives += runNeg;
            i0 = i1;
        }
        return positives == 0 || negatives == 0 ? double.NaN : area / (positives * negatives);
    }
}
