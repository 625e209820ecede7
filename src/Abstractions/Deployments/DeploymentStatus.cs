using Freshet.Jobs;

namespace Freshet.Deployments;

[GenerateSerializer, Immutable, Alias("Freshet.Deployments.DeploymentStatus")]
public sealed record DeploymentStatus
{
    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public Mode Mode { get; init; }
    [Id(2)] public DeploymentSpec? Spec { get; init; }

    /// <summary>The checkpoint serving follows.</summary>
    [Id(3)] public long? ServingCheckpoint { get; init; }
    [Id(4)] public DateTime? Now { get; init; }
    [Id(5)] public DateTime? NextPublish { get; init; }
    [Id(6)] public DateTime? NextCheckpoint { get; init; }
    /// <summary>The main job (Model A in promotion mode).</summary>
    [Id(7)] public JobStatus? Main { get; init; }

    /// <summary>Model B, in promotion mode only.</summary>
    [Id(8)] public JobStatus? B { get; init; }
    [Id(9)] public IReadOnlyList<DeploymentEvent> Events { get; init; } = [];

    /// <summary>The served-quality guard, when the deployment's feedback spec has one.</summary>
    [Id(10)] public Feedback.GuardStatus? Guard { get; init; }
}
