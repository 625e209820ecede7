namespace Freshet.Feedback;

/// <summary>What happened after a prediction: the row was clicked, or the click converted.</summary>
[GenerateSerializer, Alias("freshet.feedback-event")]
public enum FeedbackEvent
{
    Click,
    Conversion,
}

public static class FeedbackEvents
{
    /// <summary><c>click</c> or <c>conversion</c>, as the labels hub's JSON writes them.</summary>
    public static string Name(this FeedbackEvent kind) => kind == FeedbackEvent.Click ? "click" : "conversion";

    public static bool TryParse(string? text, out FeedbackEvent kind)
    {
        kind = text == "conversion" ? FeedbackEvent.Conversion : FeedbackEvent.Click;
        return text is "click" or "conversion";
    }
}
