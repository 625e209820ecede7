namespace Freshet.Feedback;

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
