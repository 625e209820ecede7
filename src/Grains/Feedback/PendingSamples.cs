using Freshet.Feedback;
using Freshet.Model.Feedback;

namespace Freshet.Grains.Feedback;

/// <summary>One join's pending samples and counts, as persisted.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Feedback.PendingSamples")]
public sealed class PendingSamples
{
    [Id(0)] public Guid[] Keys { get; set; } = [];
    [Id(1)] public long[] Deadlines { get; set; } = [];
    [Id(2)] public byte[] Samples { get; set; } = [];
    [Id(3)] public LabelJoinCounts Counts { get; set; }
}
