using Freshet.Deployments;

namespace Freshet.Grains.Deployments;

/// <summary>Daily mode: the main job publishes a delta every interval and a full checkpoint once a day (when the spec asks for them).</summary>
public sealed class DailySchedule(DeploymentSpec spec) : DeploymentSchedule(spec)
{
    public override DeploymentJob Publishing => DeploymentJob.Main;

    protected override ScheduledAction Due(DeploymentState state, DateTime now) =>
        Spec.DailyCheckpoints && now >= state.NextCheckpoint ? ScheduledAction.DailyCheckpoint
        : now >= state.NextPublish ? ScheduledAction.Delta
        : ScheduledAction.None;

    public override void Enter(DeploymentState state, DateTime now)
    {
        RestartInterval(state, now);
        state.NextCheckpoint = NextDaily(now);
    }

    public override void Checkpointed(DeploymentState state, DateTime now)
    {
        state.NextCheckpoint = NextDaily(now);
        RestartInterval(state, now);
    }

    public override DateTime CheckpointFailed(DeploymentState state, DateTime now) => (state.NextCheckpoint = now + CheckpointRetry).Value;
}
