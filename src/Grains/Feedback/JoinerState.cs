using Freshet.Feedback;

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
