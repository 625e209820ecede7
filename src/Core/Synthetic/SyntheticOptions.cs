namespace Freshet.Model.Synthetic;

/// <summary>Parameters of the synthetic click stream (<c>source.synthetic</c> in a schema); durations as <c>12h</c>, <c>10m</c>.</summary>
public sealed class SyntheticOptions
{
    public int Seed { get; set; } = 7;

    /// <summary>Event time of the first impression (ISO 8601, UTC).</summary>
    public string Start { get; set; } = "2026-03-02T00:00:00Z";

    /// <summary>Mean impression rate in event time (arrivals are Poisson).</summary>
    public double ImpressionsPerHour { get; set; } = 6000;

    public int Users { get; set; } = 20000;

    /// <summary>Zipf exponent of user activity.</summary>
    public double UserZipf { get; set; } = 1.1;

    public int InitialItems { get; set; } = 3000;

    /// <summary>New items arriving per hour of event time.</summary>
    public double NewItemsPerHour { get; set; } = 60;

    /// <summary>Zipf exponent of item base popularity.</summary>
    public double ItemZipf { get; set; } = 1.1;

    /// <summary>An item's popularity halves every this long after it arrives (popularity drift).</summary>
    public string ItemHalfLife { get; set; } = "18h";

    public int Categories { get; set; } = 24;

    public int Devices { get; set; } = 6;

    public int LatentDim { get; set; } = 4;

    /// <summary>Start of the promotion window, after <see cref="Start"/>.</summary>
    public string PromotionStart { get; set; } = "24h";

    public string PromotionDuration { get; set; } = "12h";

    /// <summary>Share of categories promoted during the window.</summary>
    public double PromotedShare { get; set; } = 0.25;

    /// <summary>Logit shift of CTR for promoted categories during the window.</summary>
    public double PromotionCtrBoost { get; set; } = 0.8;

    /// <summary>Logit shift of CVR for promoted categories during the window.</summary>
    public double PromotionCvrBoost { get; set; } = 1.0;

    /// <summary>
    /// Logit shift of CTR for items of the category a user is after right now (the user's session intent); 0: no
    /// intents. An intent is a category drawn uniformly, held for an exponential time of mean <see cref="IntentDuration"/>,
    /// then drawn again: what a user clicked in the last minutes says it, the user's long-run taste does not.
    /// </summary>
    public double IntentBoost { get; set; }

    /// <summary>Mean time a user's intent holds (see <see cref="IntentBoost"/>).</summary>
    public string IntentDuration { get; set; } = "1h";

    /// <summary>Median delay from a click to its conversion (log-normal).</summary>
    public string ConversionDelayMedian { get; set; } = "10m";
}
