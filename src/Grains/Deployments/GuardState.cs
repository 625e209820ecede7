
namespace Freshet.Grains.Deployments;

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

    /// <summary>The guard's state as deployment status shows it.</summary>
    public Freshet.Feedback.GuardStatus ToStatus() => new()
    {
        Good = Good, Halted = Halted, Rollbacks = Rollbacks, Promotions = Promotions,
        Last = Last, LastRollback = LastRollback, LastRollbackTime = LastRollbackTime,
    };
}
