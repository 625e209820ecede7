namespace Freshet.Model.Feedback;

/// <summary>
/// How clicks whose conversions come later reach CVR training (DESIGN.md 6.2; docs/FEEDBACK.md).
/// </summary>
[GenerateSerializer, Alias("freshet.delayed-feedback")]
public enum DelayedFeedback
{
    /// <summary>
    /// Wait for the label: a click trains when its conversion arrives (positive) or when its attribution window
    /// closes without one (negative). Labels are right, but negatives are a whole window stale.
    /// </summary>
    Wait,

    /// <summary>
    /// Fake negative weighted (Ktena et al., "Addressing Delayed Feedback for Continuous Training with Neural Networks
    /// in CTR prediction", RecSys 2019): a click trains at once as a negative, and again as a positive when its
    /// conversion arrives; the step weights positives by 1 + p and negatives by (1 - p)(1 + p), p the model's own
    /// estimate, so that the biased stream still teaches the true rate.
    /// </summary>
    Fnw,

    /// <summary>
    /// DEFER (Gu et al., "Real Negatives Matter: Continuous Training with Real Negatives for Delayed Feedback
    /// Modeling", KDD 2021): a click trains at once as a negative (<see cref="Data.LabelArrival.Immediate"/>), and every
    /// click trains a second time with its real label (<see cref="Data.LabelArrival.Duplicate"/>): positive when its
    /// conversion arrives, negative when its window closes without one. Each click then appears exactly twice, so the
    /// weights stay bounded at any delay: 2 on a positive, 2(1 - p) / (2 - p) on a negative.
    /// </summary>
    Defer,
}

public static class DelayedFeedbacks
{
    public static readonly IReadOnlyList<DelayedFeedback> All = [DelayedFeedback.Wait, DelayedFeedback.Fnw, DelayedFeedback.Defer];

    /// <summary>The method's name in options, JSON and reports: <c>wait</c>, <c>fnw</c> or <c>defer</c>.</summary>
    public static string Name(this DelayedFeedback method) => method switch
    {
        DelayedFeedback.Fnw => "fnw",
        DelayedFeedback.Defer => "defer",
        _ => "wait",
    };

    /// <summary>
    /// A sample's weight in the loss. A <see cref="Data.LabelArrival.Known"/> label weighs 1. A label of FNW's stream
    /// (provisional negatives and late positives) is importance-weighted from the biased distribution b back to the true
    /// one: with p the model's current estimate of the true rate (held fixed, not differentiated), b(1|x) = p / (1 + p), so a
    /// positive weighs p / b(1|x) = 1 + p and a negative (1 - p) / b(0|x) = (1 - p)(1 + p). DEFER's stream (a copy at
    /// once and a copy with the real label) has b(1|x) = p / 2: a positive weighs 2, a negative (1 - p) / (1 - p / 2).
    /// </summary>
    public static float Weight(Data.LabelArrival arrival, float label, float p)
    {
        if (arrival == Data.LabelArrival.Known) return 1f;
        var q = float.IsFinite(p) ? Math.Clamp(p, 0f, 1f) : 0f;
        if (arrival is Data.LabelArrival.Immediate or Data.LabelArrival.Duplicate) return label > 0.5f ? 2f : 2f * (1f - q) / (2f - q);
        return label > 0.5f ? 1f + q : (1f - q) * (1f + q);
    }

    public static bool TryParse(string? text, out DelayedFeedback method)
    {
        method = text switch
        {
            "fnw" => DelayedFeedback.Fnw,
            "defer" => DelayedFeedback.Defer,
            _ => DelayedFeedback.Wait,
        };
        return text is "fnw" or "wait" or "defer";
    }
}
