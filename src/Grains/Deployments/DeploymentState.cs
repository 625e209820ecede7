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

/// <summary>The served-quality guard's state (see <see cref="Freshet.Feedback.GuardSpec"/>).</summary>
[GenerateSerializer, Alias("Freshet.Grains.Deployments.GuardState")]
public sealed class GuardState
{
    [Id(0)] public Model.Serving.WeightsVersion? Good { get; set; }
    [Id(1)] public bool Halted { get; set; }
    [Id(2)] public int Rollbacks { get; set; }
    [Id(3)] public int Promotions { get; set; }
    [Id(4)] public Freshet.Feedback.GuardVerdict? Last { get; set; }
    [Id(5)] public Freshet.Feedback.GuardVerdict? LastRollback { get; set; }
    [Id(6)] public DateTime? LastRollbackTime { get; set; }
    [Id(7)] public DateTime? NextCheck { get; set; }

    /// <summary>The oldest version the guard may judge: a resumed line's checkpoint (the rolled-back line's versions are never judged again).</summary>
    [Id(8)] public Model.Serving.WeightsVersion? Floor { get; set; }
}
