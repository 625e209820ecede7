namespace Freshet.Feedback;

/// <summary>A label for a served prediction: what happened to it, and when.</summary>
[GenerateSerializer, Immutable, Alias("freshet.feedback-label")]
public sealed record FeedbackLabel
{
    [Id(0)] public PredictionId Prediction { get; init; }
    [Id(1)] public FeedbackEvent Event { get; init; }

    /// <summary>When it happened (UTC).</summary>
    [Id(2)] public DateTime Time { get; init; }
}
