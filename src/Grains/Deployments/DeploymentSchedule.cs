using Freshet.Deployments;

namespace Freshet.Grains.Deployments;

/// <summary>
/// When a deployment publishes, as a pure rule over its persisted times (<see cref="DeploymentState"/>), without Orleans:
/// the grain asks <see cref="Tick"/> what is due, carries it out, and tells the schedule how it went. One rule for
/// deltas holds in every mode: the next delta is due one publish interval after serving last changed (a delta, a full
/// checkpoint, a switch, a rollback, a resume), whether the last attempt succeeded or not. The modes differ in what
/// else they schedule: a daily checkpoint (<see cref="DailySchedule"/>) or Model A's checkpoints every few hours, each a
/// switch (<see cref="PromotionSchedule"/>). A checkpoint that storage refused is tried again after
/// <see cref="CheckpointRetry"/>; deltas go on meanwhile.
/// </summary>
public abstract class DeploymentSchedule(DeploymentSpec spec)
{
    /// <summary>The schedule of <paramref name="state"/>'s mode.</summary>
    public static DeploymentSchedule Of(DeploymentState state) => Of(state.Mode, state.Spec ?? throw new InvalidOperationException("a deployment without a spec has no schedule"));

    /// <summary>The schedule of <paramref name="mode"/>.</summary>
    public static DeploymentSchedule Of(Mode mode, DeploymentSpec spec) => mode == Mode.Promotion ? new PromotionSchedule(spec) : new DailySchedule(spec);

    protected DeploymentSpec Spec => spec;

    /// <summary>The job whose deltas serving takes in this mode.</summary>
    public abstract DeploymentJob Publishing { get; }

    /// <summary>
    /// How long a scheduled checkpoint that storage refused waits before the next try: a minute, or the publish interval if
    /// longer. Each try holds the trainers while storage is retried, so it must not come every tick.
    /// </summary>
    public TimeSpan CheckpointRetry => spec.PublishInterval > TimeSpan.FromMinutes(1) ? spec.PublishInterval : TimeSpan.FromMinutes(1);

    /// <summary>
    /// Moves <paramref name="state"/>'s clock to <paramref name="now"/> (times not yet set start from it) and says what is due:
    /// the mode's checkpoint before a delta; at most one action a tick.
    /// </summary>
    public ScheduledAction Tick(DeploymentState state, DateTime now)
    {
        state.Now = now;
        state.NextPublish ??= now + spec.PublishInterval;
        state.NextCheckpoint ??= NextDaily(now);
        return Due(state, now);
    }

    /// <summary>The mode's own rule, after <see cref="Tick"/> set the times.</summary>
    protected abstract ScheduledAction Due(DeploymentState state, DateTime now);

    /// <summary>Serving changed (or a delta was tried) at <paramref name="now"/>: the next delta is due an interval later.</summary>
    public void RestartInterval(DeploymentState state, DateTime now) => state.NextPublish = now + spec.PublishInterval;

    /// <summary>The mode starts at <paramref name="now"/> (a switch into it published a full checkpoint, which serving took).</summary>
    public abstract void Enter(DeploymentState state, DateTime now);

    /// <summary>The mode's scheduled checkpoint (<see cref="ScheduledAction.DailyCheckpoint"/> or <see cref="ScheduledAction.PromotionSwitch"/>) was published at <paramref name="now"/>.</summary>
    public abstract void Checkpointed(DeploymentState state, DateTime now);

    /// <summary>The mode's scheduled checkpoint failed at <paramref name="now"/>; returns when it is tried again.</summary>
    public abstract DateTime CheckpointFailed(DeploymentState state, DateTime now);

    /// <summary>The next time of day <see cref="DeploymentSpec.DailyCheckpointAt"/> strictly after <paramref name="now"/>.</summary>
    public DateTime NextDaily(DateTime now)
    {
        var today = now.Date + spec.DailyCheckpointAt;
        return today > now ? today : today.AddDays(1);
    }
}
