namespace Freshet.Grains.Deployments;

/// <summary>What a deployment's clock calls for at a tick (<see cref="DeploymentSchedule.Tick"/>).</summary>
public enum ScheduledAction
{
    /// <summary>Nothing is due.</summary>
    None,

    /// <summary>A delta of the publishing job (<see cref="DeploymentSchedule.Publishing"/>) on the version serving holds.</summary>
    Delta,

    /// <summary>Daily mode: the main job's full checkpoint of the day, which serving swaps to.</summary>
    DailyCheckpoint,

    /// <summary>Promotion mode: Model A's checkpoint, which serving switches to and Model B restores.</summary>
    PromotionSwitch,
}
