using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>
/// One weights version's answers, scored once their labels settled: CTR on impressions (clicked or not within the
/// click window), CVR on clicks (converted or not within the attribution window). Bins add up across joiners.
/// </summary>
[GenerateSerializer, Alias("freshet.served-quality")]
public sealed class ServedQuality
{
    [Id(0)] public WeightsVersion Weights { get; set; }
    [Id(1)] public Freshet.Model.Metrics.ScoreBins Ctr { get; set; } = new();
    [Id(2)] public Freshet.Model.Metrics.ScoreBins Cvr { get; set; } = new();

    /// <summary>
    /// Every shadowed impression's paired CTR log-loss, whatever good weights shadowed it: a count of pairs, not a
    /// comparison (rows shadowed by different good versions do not compare with one baseline); the guard reads <see cref="PairedWith"/>.
    /// </summary>
    [Id(3)] public PairedLoss Paired { get; set; } = new();

    /// <summary>The latest scoring time of a row this version answered (UTC ticks).</summary>
    [Id(4)] public long LastScored { get; set; }

    /// <summary>Every impression this version answered has its click label (the click window after its last row has passed the joiner's clock).</summary>
    [Id(5)] public bool Settled { get; set; }

    /// <summary>
    /// Shadowed impressions' paired CTR log-loss, served minus good, by the good weights that shadowed them: each sum is
    /// one pair of versions (this one served, that one shadowing). A row counts once its click window has closed by the
    /// joiner's clock (clicked or not), so the sums of the version being served grow while it is served, and at any
    /// moment hold every row scored up to a click window ago, not the clicked ones first.
    /// </summary>
    [Id(6)] public Dictionary<WeightsVersion, PairedLoss> PairedWith { get; set; } = [];

    /// <summary>Adds one shadowed row's pair: <paramref name="served"/>'s and <paramref name="good"/>'s log-loss, the good weights being <paramref name="shadow"/>.</summary>
    public void AddPair(WeightsVersion shadow, double served, double good)
    {
        if (!PairedWith.TryGetValue(shadow, out var pairs)) PairedWith[shadow] = pairs = new PairedLoss();
        pairs.Add(served, good);
        Paired.Add(served, good);
    }

    /// <summary>The versions' qualities summed per version, oldest first (several joiners' parts of one model).</summary>
    public static List<ServedQuality> Merge(IEnumerable<ServedQuality> parts)
    {
        var merged = new SortedDictionary<WeightsVersion, ServedQuality>();
        foreach (var q in parts)
        {
            if (!merged.TryGetValue(q.Weights, out var into)) merged[q.Weights] = into = new ServedQuality { Weights = q.Weights, Settled = true };
            into.Ctr.Add(q.Ctr);
            into.Cvr.Add(q.Cvr);
            into.Paired.Add(q.Paired);
            foreach (var (shadow, pairs) in q.PairedWith)
            {
                if (!into.PairedWith.TryGetValue(shadow, out var sum)) into.PairedWith[shadow] = sum = new PairedLoss();
                sum.Add(pairs);
            }
            into.LastScored = Math.Max(into.LastScored, q.LastScored);
            into.Settled &= q.Settled;
        }
        return [.. merged.Values];
    }
}
