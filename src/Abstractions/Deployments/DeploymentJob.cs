namespace Freshet.Deployments;

/// <summary>
/// A deployment's jobs (DESIGN.md section 3): the main job (Model A in promotion mode), which trains every
/// tier all the time, and Model B, which runs in promotion mode only, restored from A's latest checkpoint
/// with the frozen tier locked, and publishes its deltas on it.
/// </summary>
[GenerateSerializer, Alias("Freshet.Deployments.DeploymentJob")]
public enum DeploymentJob
{
    /// <summary>The main job, Model A in promotion mode: job <c>{model}-main</c>, weights under the served model.</summary>
    Main,

    /// <summary>Model B: job <c>{model}-b</c>, weights under model <c>{model}-b</c>, deltas published on the served model.</summary>
    B,
}
