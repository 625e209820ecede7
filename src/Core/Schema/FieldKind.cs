namespace Freshet.Model.Schema;

/// <summary>How a field's column becomes model input.</summary>
public enum FieldKind
{
    /// <summary>One categorical value: one embedding row.</summary>
    Id,

    /// <summary>A list of categorical values: a mean-pooled bag of embedding rows.</summary>
    Ids,

    /// <summary>A number fed to the dense tier.</summary>
    Numeric,

    /// <summary>
    /// A running statistic of another id field: that id's smoothed label rate so far and how often
    /// it was seen (the "statistics" features of streaming CTR models). Counted from samples already
    /// trained on, so a sample never sees its own label; the counts are changing-tier state.
    /// </summary>
    Rate,

    /// <summary>
    /// A key's recent events, kept by Freshet itself: the last <see cref="FieldSpec.MaxLength"/> values of the id field
    /// <see cref="FieldSpec.From"/> that the key in <see cref="FieldSpec.Of"/> clicked (or was shown, or converted on:
    /// <see cref="FieldSpec.Event"/>) strictly before the event, embedded in <c>from</c>'s table and pooled as a bag.
    /// No column: replay computes it per event from the log (<c>SequenceTracker</c>).
    /// </summary>
    Sequence,
}
