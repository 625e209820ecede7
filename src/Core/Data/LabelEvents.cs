namespace Freshet.Model.Data;

/// <summary>
/// What a trained sample adds to running counts (rate fields, the counting baselines), in event time: its trial at its own
/// time, and its positive at the time it was known (a conversion's time, when later). A repeat (FNW's late positive,
/// DEFER's duplicate) adds only a positive, its trial having been counted with its first copy. One rule for every count,
/// so the model's rate inputs and the baselines it is judged against see the same events.
/// </summary>
public static class LabelEvents
{
    /// <summary>The sample's events: none, one, or a trial and then a later positive.</summary>
    public static (int Count, CountEvent First, CountEvent Second) Of(Sample sample)
    {
        var labelTime = sample.ConversionTime > sample.Time ? sample.ConversionTime : sample.Time;
        if (sample.Arrival.IsRepeat())
        {
            return sample.Label > 0 ? (1, new CountEvent(labelTime, sample.Label, 0), default) : (0, default, default);
        }
        if (labelTime == sample.Time || sample.Label == 0) return (1, new CountEvent(sample.Time, sample.Label, 1), default);
        return (2, new CountEvent(sample.Time, 0, 1), new CountEvent(labelTime, sample.Label, 0));
    }
}
