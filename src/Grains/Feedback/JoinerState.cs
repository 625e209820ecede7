using Freshet.Feedback;
using Freshet.Model.Feedback;

namespace Freshet.Grains.Feedback;

/// <summary>What a joiner keeps across activations: its settings, what it waits on (samples as <c>SampleCodec</c> bytes), its counts.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Feedback.JoinerState")]
public sealed class JoinerState
{
    [Id(0)] public JoinerConfig? Config { get; set; }
    [Id(1)] public PendingSamples Impressions { get; set; } = new();
    [Id(2)] public PendingSamples Clicks { get; set; } = new();
    [Id(3)] public JoinerCounts Counts { get; set; } = new();

    /// <summary>The joiner's clock (UTC ticks; <see cref="long.MinValue"/> before any event).</summary>
    [Id(4)] public long Now { get; set; } = long.MinValue;

    /// <summary>What serving answered for the rows still pending, by key.</summary>
    [Id(5)] public Dictionary<Guid, ServedAnswer> Served { get; set; } = [];

    /// <summary>Served quality of the latest weights versions.</summary>
    [Id(6)] public List<ServedQuality> Quality { get; set; } = [];

    /// <summary>Shadowed impressions clicked before their click window closed: their pairs wait for it, so the guard never sees the clicked rows of a span before its unclicked ones.</summary>
    [Id(7)] public List<HeldPair> Held { get; set; } = [];

    /// <summary>Samples made but not yet on the job's streams (a publish failed, as a silo died): sent first by the next publish (<c>SampleCodec</c> bytes).</summary>
    [Id(8)] public byte[] Unsent { get; set; } = [];
}

/// <summary>
/// What serving answered for one row, and with which weights; with the good weights' CTR and version when the call was
/// shadow-scored (else NaN and null), and the row's scoring time (UTC ticks), from which its click window closes.
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Grains.Feedback.ServedAnswer")]
public readonly record struct ServedAnswer(
    [property: Id(0)] float Ctr, [property: Id(1)] float Cvr, [property: Id(2)] Freshet.Model.Serving.WeightsVersion Weights, [property: Id(3)] float ShadowCtr = float.NaN,
    [property: Id(4)] Freshet.Model.Serving.WeightsVersion? Shadow = null, [property: Id(5)] long Scored = 0);

/// <summary>One join's pending samples and counts, as persisted.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Feedback.PendingSamples")]
public sealed class PendingSamples
{
    [Id(0)] public Guid[] Keys { get; set; } = [];
    [Id(1)] public long[] Deadlines { get; set; } = [];
    [Id(2)] public byte[] Samples { get; set; } = [];
    [Id(3)] public LabelJoinCounts Counts { get; set; }
}

[GenerateSerializer, Alias("Freshet.Grains.Feedback.JoinerCounts")]
public sealed class JoinerCounts
{
    [Id(0)] public long Predictions { get; set; }
    [Id(3)] public long CtrSamples { get; set; }
    [Id(4)] public long CvrSamples { get; set; }
}
