using Freshet.Admin;
using Freshet.Deployments;
using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>
/// One partition of a model's feedback loop, keyed <c>{model}/{joiner}</c> (<see cref="JoinerKey"/>): it holds
/// what serving answered for the prediction ids of its partition until their labels come or their windows
/// close, and publishes the training samples they make onto the main job's sample streams.
/// </summary>
[Alias("Freshet.Feedback.IJoinerGrain")]
public interface IJoinerGrain : IGrainWithStringKey
{
    /// <summary>Sets (or changes) the loop's settings and where its samples go; the deployment grain calls it at start.</summary>
    [Alias("Configure")] Task ConfigureAsync(JoinerConfig config);

    /// <summary>Rows serving scored for this partition: held for their labels.</summary>
    [Alias("Log")] Task LogAsync(PredictionLog log);

    /// <summary>Labels for this partition's predictions; what they complete is published at once.</summary>
    [ClientCallable(ClientAccess.Produce), Alias("Label")] Task LabelAsync(IReadOnlyList<FeedbackLabel> labels);

    /// <summary>The loop's settings (null: the model logs no predictions).</summary>
    [Alias("GetConfig")] Task<JoinerConfig?> GetConfigAsync();

    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<JoinerStatus> GetStatusAsync();
}

/// <summary>A joiner's settings: the feedback spec, and the job (and its trainer count) its samples feed.</summary>
[GenerateSerializer, Immutable, Alias("freshet.joiner-config")]
public sealed record JoinerConfig
{
    [Id(0)] public FeedbackSpec Spec { get; init; } = new();
    [Id(1)] public string Job { get; init; } = "";
    [Id(2)] public int Trainers { get; init; } = 1;

    /// <summary>Wall: windows also close as the silo's clock moves; otherwise only as event times (predictions, labels) move.</summary>
    [Id(3)] public ClockKind Clock { get; init; } = ClockKind.Wall;

    [Id(4)] public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The model's schema (the deployment's): its sequence fields are recorded live from what the loop reports; empty: none.</summary>
    [Id(5)] public string SchemaJson { get; init; } = "";
}

/// <summary>Rows one serving call scored for one joiner: their ids, features (<c>SampleCodec</c>, as CTR samples at the scoring time) and answers.</summary>
[GenerateSerializer, Immutable, Alias("freshet.prediction-log")]
public sealed record PredictionLog
{
    [Id(0)] public Guid[] Ids { get; init; } = [];
    [Id(1)] public byte[] Samples { get; init; } = [];
    [Id(2)] public float[] Ctr { get; init; } = [];
    [Id(3)] public float[] Cvr { get; init; } = [];
    [Id(4)] public WeightsVersion Weights { get; init; }
    [Id(5)] public DateTime Time { get; init; }

    /// <summary>The good weights' CTR answers for the same rows when the call was shadow-scored (<see cref="GuardSpec"/>), else empty.</summary>
    [Id(6)] public float[] ShadowCtr { get; init; } = [];

    /// <summary>The good weights that gave <see cref="ShadowCtr"/>.</summary>
    [Id(7)] public WeightsVersion? Shadow { get; init; }
}

[GenerateSerializer, Immutable, Alias("freshet.joiner-status")]
public sealed record JoinerStatus
{
    [Id(0)] public string Joiner { get; init; } = "";
    [Id(1)] public bool Configured { get; init; }

    /// <summary>Rows logged by serving.</summary>
    [Id(2)] public long Predictions { get; init; }

    /// <summary>Impressions waiting for a click, and clicks waiting for a conversion.</summary>
    [Id(3)] public int PendingImpressions { get; init; }
    [Id(4)] public int PendingClicks { get; init; }

    [Id(5)] public long Clicks { get; init; }
    [Id(6)] public long Conversions { get; init; }

    /// <summary>Labels for ids this joiner does not hold (never logged, settled, evicted) or after their window.</summary>
    [Id(7)] public long LabelsUnmatched { get; init; }
    [Id(8)] public long LabelsExpired { get; init; }

    /// <summary>Impressions and clicks settled early because the joiner held <see cref="FeedbackSpec.MaxPendingPerJoiner"/>.</summary>
    [Id(9)] public long Evicted { get; init; }

    [Id(10)] public long CtrSamples { get; init; }
    [Id(11)] public long CvrSamples { get; init; }

    /// <summary>The joiner's clock: the latest time it has seen (UTC).</summary>
    [Id(12)] public DateTime? Now { get; init; }

    /// <summary>Something came in since the last write of the joiner's state (what a crash now would lose).</summary>
    [Id(13)] public bool Unpersisted { get; init; }

    /// <summary>What serving answered against what happened, per weights version (the latest ones, oldest first).</summary>
    [Id(14)] public IReadOnlyList<ServedQuality> Quality { get; init; } = [];

    /// <summary>
    /// Labels and logged predictions refused because their time was further ahead of the joiner silo's clock than
    /// <c>Freshet:Silo:MaxClockSkew</c> (since the joiner's activation): they would have moved its clock for good.
    /// </summary>
    [Id(15)] public long TimesRejected { get; init; }
}

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

/// <summary>The key of a model's joiner partition: <c>{model}/{joiner}</c>.</summary>
public readonly record struct JoinerKey(string Model, int Joiner)
{
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Model}/{Joiner}");

    /// <summary>The key's parts; a joiner's key is a client's door (labels), so its model's name follows <see cref="Freshet.Model.Schema.NameRule"/>.</summary>
    public static JoinerKey Parse(string key) =>
        GrainKeys.TrySplit(key, out var model, out var joiner) && joiner < FeedbackSpec.MaxJoiners
            ? new JoinerKey(Freshet.Model.Schema.NameRule.Check(model, "model"), joiner)
            : throw new ArgumentException($"joiner key '{key}' is not '{{model}}/{{joiner}}' with a joiner below {FeedbackSpec.MaxJoiners}", nameof(key));
}
