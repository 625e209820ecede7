namespace Freshet.Feedback;

/// <summary>What happened after a prediction: the row was clicked, or the click converted.</summary>
[GenerateSerializer, Alias("freshet.feedback-event")]
public enum FeedbackEvent
{
    Click,
    Conversion,
}
