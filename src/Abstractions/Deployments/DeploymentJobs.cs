namespace Freshet.Deployments;

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
