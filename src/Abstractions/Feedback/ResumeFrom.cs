
namespace Freshet.Feedback;

/// <summary>Where training starts again when publishing resumes after a guard rollback.</summary>
[GenerateSerializer, Alias("freshet.resume-from")]
public enum ResumeFrom
{
    /// <summary>
    /// The good weights' full checkpoint: the main job's training state is restored from it, so what the rolled-back
    /// line learned (from poisoned labels, a corrupted update) is discarded along with the training since that checkpoint.
    /// </summary>
    Good,

    /// <summary>The training line as it stands (a false alarm, or a fault that never reached training).</summary>
    Line,
}
