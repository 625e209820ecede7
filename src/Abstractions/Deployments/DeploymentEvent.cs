using Freshet.Model.Serving;

namespace Freshet.Deployments;

/// <summary>A transition or action of a deployment, with the versions involved.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Deployments.DeploymentEvent")]
public sealed record DeploymentEvent
{
    [Id(0)] public DateTime Time { get; init; }

    [Id(1)] public DeploymentEventKind Kind { get; init; }

    /// <summary>The job that acted: the main job (Model A in promotion mode) or Model B.</summary>
    [Id(2)] public DeploymentJob Job { get; init; }

    /// <summary>The weights serving follows after the event: the checkpoint, and for a publish the delta on it.</summary>
    [Id(3)] public WeightsVersion? Weights { get; init; }

    [Id(5)] public string Detail { get; init; } = "";

    /// <summary>For a publish: the delta's encoded size, its rows (changing and fresh), the barrier pause, and milliseconds from the snapshot until every chunk was sent.</summary>
    [Id(6)] public long? Bytes { get; init; }
    [Id(7)] public long? Rows { get; init; }
    [Id(8)] public double? BarrierPauseMs { get; init; }
    [Id(9)] public double? SendMs { get; init; }

    /// <summary>The guard's verdict, on its events (both figures on the same rows).</summary>
    [Id(10)] public Feedback.GuardVerdict? Guard { get; init; }
}
