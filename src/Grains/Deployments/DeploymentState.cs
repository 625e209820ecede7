using Freshet.Deployments;

namespace Freshet.Grains.Deployments;

[GenerateSerializer, Alias("Freshet.Grains.Deployments.DeploymentState")]
public sealed class DeploymentState
{
    [Id(0)] public DeploymentSpec? Spec { get; set; }
    [Id(1)] public Mode Mode { get; set; }
    [Id(2)] public bool Running { get; set; }
    [Id(3)] public DateTime? Now { get; set; }
    [Id(4)] public DateTime? NextPublish { get; set; }
    [Id(5)] public DateTime? NextCheckpoint { get; set; }
    [Id(6)] public DateTime? NextSwitch { get; set; }
    [Id(7)] public TimeSpan PromotionEvery { get; set; }
    [Id(8)] public long? ServingCheckpoint { get; set; }
    [Id(9)] public List<DeploymentEvent> Events { get; set; } = [];
    [Id(10)] public GuardState Guard { get; set; } = new();
}
