
namespace Freshet.Feedback;

/// <summary>What the guard decided at one check.</summary>
[GenerateSerializer, Alias("freshet.guard-action")]
public enum GuardAction
{
    /// <summary>Not found worse, and fewer than <see cref="GuardSpec.MinPairs"/> pairs against the good weights yet.</summary>
    Wait,

    /// <summary>The judged versions are no worse on <see cref="GuardSpec.MinPairs"/> pairs: the oldest of them becomes the good one.</summary>
    Good,

    /// <summary>The judged versions are worse: serving goes back to the good weights and publishing halts.</summary>
    Rollback,
}
