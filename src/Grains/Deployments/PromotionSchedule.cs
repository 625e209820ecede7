using Freshet.Deployments;

namespace Freshet.Grains.Deployments;

/// <summary>
/// Promotion mode: Model B publishes a delta every interval on Model A's last checkpoint; every
/// <see cref="DeploymentState.PromotionEvery"/> A checkpoints, serving switches to it and B restores it (no delta in that tick).
/// </summary>
public sealed class PromotionSchedule(DeploymentSpec spec) : DeploymentSchedule(spec)
{
    public override DeploymentJob Publishing => DeploymentJob.B;

    protected override ScheduledAction Due(DeploymentState state, DateTime now)
    {
        state.NextSwitch ??= now + state.PromotionEvery;
        return now >= state.NextSwitch ? ScheduledAction.PromotionSwitch
            : now >= state.NextPublish ? ScheduledAction.Delta
            : ScheduledAction.None;
    }

    public override void Enter(DeploymentState state, DateTime now)
    {
        state.NextSwitch = now + state.PromotionEvery;
        RestartInterval(state, now);
    }

    public override void Checkpointed(DeploymentState state, DateTime now) => Enter(state, now);

    public override DateTime CheckpointFailed(DeploymentState state, DateTime now) => (state.NextSwitch = now + CheckpointRetry).Value;
}
