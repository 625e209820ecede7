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

public static class DeploymentJobs
{
    /// <summary>The job's short name in events, logs and names: <c>main</c> or <c>b</c>.</summary>
    public static string Name(this DeploymentJob job) => job switch
    {
        DeploymentJob.Main => "main",
        DeploymentJob.B => "b",
        _ => throw new ArgumentOutOfRangeException(nameof(job), job, "not a deployment job"),
    };

    /// <summary>The job's name for deployment <paramref name="model"/>: <c>{model}-main</c>, <c>{model}-b</c>.</summary>
    public static string JobOf(this DeploymentJob job, string model) => $"{model}-{job.Name()}";

    /// <summary>The model whose checkpoints hold the job's weights: the served model for the main job, <c>{model}-b</c> for B.</summary>
    public static string ModelOf(this DeploymentJob job, string model) => job == DeploymentJob.Main ? model : $"{model}-{job.Name()}";
}
