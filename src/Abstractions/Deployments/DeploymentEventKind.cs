namespace Freshet.Deployments;

/// <summary>What a deployment did (<see cref="DeploymentEvent.Kind"/>).</summary>
[GenerateSerializer, Alias("freshet.deployment-event-kind")]
public enum DeploymentEventKind
{
    /// <summary>The deployment started in daily mode.</summary>
    Start,

    /// <summary>A delta reached serving.</summary>
    Publish,

    /// <summary>Promotion mode began: A checkpointed, B restored it and publishes.</summary>
    PromotionStart,

    /// <summary>Promotion mode: A checkpointed again, serving switched to it, B restored it.</summary>
    PromotionSwitch,

    /// <summary>Back to daily mode: B stopped, A checkpointed and publishes.</summary>
    DailyStart,

    /// <summary>The daily full checkpoint, which serving swaps to.</summary>
    DailyCheckpoint,

    /// <summary>A full checkpoint on request.</summary>
    Checkpoint,

    Rollback,

    Stop,

    /// <summary>The guard judged the served line no worse than the good weights: its oldest judged version is the good one now.</summary>
    GuardGood,

    /// <summary>The guard judged the served line worse: serving went back to the good weights, publishing halted.</summary>
    GuardRollback,

    /// <summary>Publishing resumed after a guard rollback, from a full checkpoint serving switched to.</summary>
    Resume,

    /// <summary>A scheduled full checkpoint was not committed (storage failed); serving stayed, it is tried again later.</summary>
    CheckpointFailed,

    /// <summary>A scheduled delta was not published (storage or the stream failed); it is kept and sent first next time.</summary>
    PublishFailed,
}

public static class DeploymentEventKinds
{
    /// <summary>The name logs, traces (<c>freshet.deployment.{name}</c>), metrics and the CLI's JSON use: <c>promotion-switch</c>.</summary>
    public static string Name(this DeploymentEventKind kind) => kind switch
    {
        DeploymentEventKind.PromotionStart => "promotion-start",
        DeploymentEventKind.PromotionSwitch => "promotion-switch",
        DeploymentEventKind.DailyStart => "daily-start",
        DeploymentEventKind.DailyCheckpoint => "daily-checkpoint",
        DeploymentEventKind.GuardGood => "guard-good",
        DeploymentEventKind.GuardRollback => "guard-rollback",
        DeploymentEventKind.CheckpointFailed => "checkpoint-failed",
        DeploymentEventKind.PublishFailed => "publish-failed",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
