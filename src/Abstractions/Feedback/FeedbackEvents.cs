namespace Freshet.Feedback;

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
