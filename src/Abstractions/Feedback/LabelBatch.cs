namespace Freshet.Feedback;

/// <summary>Labels travelling on a label stream, with where they came from (for logs).</summary>
[GenerateSerializer, Immutable, Alias("freshet.label-batch")]
public sealed record LabelBatch
{
    [Id(0)] public IReadOnlyList<FeedbackLabel> Labels { get; init; } = [];
    [Id(1)] public string? Origin { get; init; }
}
