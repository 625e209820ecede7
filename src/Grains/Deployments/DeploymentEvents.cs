using Freshet.Deployments;
using Freshet.Jobs;

namespace Freshet.Grains.Deployments;

/// <summary>The deployment's events that say what a job's call returned.</summary>
internal static class DeploymentEvents
{
    /// <summary>A scheduled checkpoint that storage cut short, and when it is tried again.</summary>
    public static DeploymentEvent CheckpointFailed(DateTime now, CheckpointFailedException e, DateTime retry) => new()
    {
        Time = now, Kind = DeploymentEventKind.CheckpointFailed, Job = DeploymentJob.Main,
        Detail = $"{e.Message} Tried again at {retry:O}.",
    };

    /// <summary>A delta published by <paramref name="job"/>, with its size and barrier pause.</summary>
    public static DeploymentEvent Published(DateTime now, DeploymentJob job, PublishResult p) => new()
    {
        Time = now, Kind = DeploymentEventKind.Publish, Job = job, Weights = p.Weights,
        Bytes = p.Bytes, Rows = p.ChangingRows + p.FreshRows, BarrierPauseMs = p.BarrierPauseMs, SendMs = p.SendMs,
        Detail = $"delta {p.Weights}: {p.ChangingRows} changing rows, {p.FreshRows} fresh rows, {p.Bytes} bytes in {p.Chunks} chunk(s); barrier {p.BarrierPauseMs:F1} ms",
    };
}
