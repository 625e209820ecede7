namespace Freshet.Model.Data;

/// <summary>
/// How a sample's label reached training. A log replay and a window join give labels that are final when trained
/// (<see cref="Known"/>). A delayed-feedback correction (FNW, see <see cref="Feedback.DelayedFeedback"/>) trains a
/// click at once as a negative (<see cref="Provisional"/>) and again as a positive when its conversion arrives
/// (<see cref="Late"/>); DEFER trains it at once (<see cref="Immediate"/>) and again with its real label
/// (<see cref="Duplicate"/>). The training step weights each kind so that the model still learns the true rate.
/// </summary>
[GenerateSerializer, Alias("freshet.label-arrival")]
public enum LabelArrival : byte
{
    /// <summary>The label is final: an event in a log, or a label joined after its attribution window.</summary>
    Known = 0,

    /// <summary>Trained at once as a negative, before its label is known (a conversion may still come).</summary>
    Provisional = 1,

    /// <summary>The positive of a sample already trained as <see cref="Provisional"/>: its conversion arrived.</summary>
    Late = 2,

    /// <summary>DEFER's first copy: trained at once with the label known then (a negative; a conversion may still come).</summary>
    Immediate = 3,

    /// <summary>
    /// DEFER's second copy of a sample already trained as <see cref="Immediate"/>: positive when its conversion arrived,
    /// negative when its window closed without one.
    /// </summary>
    Duplicate = 4,
}

public static class LabelArrivals
{
    /// <summary>The highest value a sample on the wire may carry.</summary>
    public const LabelArrival Last = LabelArrival.Duplicate;

    /// <summary>
    /// A second copy of a sample that trained already (FNW's late positive, DEFER's duplicate): scored once, counted as a
    /// trial once, and moving batch-norm statistics once, all on its first copy.
    /// </summary>
    public static bool IsRepeat(this LabelArrival arrival) => arrival is LabelArrival.Late or LabelArrival.Duplicate;
}
