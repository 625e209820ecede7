namespace Freshet.Model.Metrics;

/// <summary>
/// Group AUC (the seed's PV-AUC): AUC within each group (e.g. one impression's page view), averaged
/// over the groups that hold both a positive and a negative, each group counting once (MIND's convention).
/// </summary>
public static class GroupAuc
{
    public static (double Auc, int Groups) Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<ulong> groups)
    {
        var byGroup = new Dictionary<ulong, List<int>>();
        for (var i = 0; i < groups.Length; i++)
        {
            if (!byGroup.TryGetValue(groups[i], out var list)) byGroup[groups[i]] = list = [];
            list.Add(i);
        }
        double sum = 0;
        var counted = 0;
        foreach (var members in byGroup.Values)
        {
            var s = new float[members.Count];
            var l = new float[members.Count];
            for (var k = 0; k < members.Count; k++)
            {
                s[k] = scores[members[k]];
                l[k] = labels[members[k]];
            }
            var auc = Auc.Compute(s, l);
            if (double.IsNaN(auc)) continue;
            sum += auc;
            counted++;
        }
        return (counted == 0 ? double.NaN : sum / counted, counted);
    }
}
