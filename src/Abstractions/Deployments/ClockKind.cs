namespace Freshet.Deployments;

/// <summary>What time a deployment's schedules run on.</summary>
[GenerateSerializer, Alias("Freshet.Deployments.ClockKind")]
public enum ClockKind
{
    /// <summary>The silo's clock (TimeProvider), ticked every second.</summary>
    Wall,

    /// <summary>The event time of the samples trained on (a replay of days of logs runs its schedules in minutes).</summary>
    EventTime,

    /// <summary>Only explicit ticks (tests on a simulated clock).</summary>
    Manual,
}
