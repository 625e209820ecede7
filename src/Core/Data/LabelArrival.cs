namespace Freshet.Model.Data;

/// <summary>
/// How a sample's label reached training. A log replay and a window join give labels that are final when trained
/// (<see cref="Known"/>). A delayed-feedback correction (FNW, see <see cref="Feedback.DelayedFeedback"/>) trains a
/// click at once as a negative (<see cref="Provisional"/>) and again as a positive when its conversion arrives
/// (<see cref="Late"/>); the training step weights both kinds so that the model still learns the true rate.
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
}
