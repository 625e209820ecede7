using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>The guard's state, in deployment status.</summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-status")]
public sealed record GuardStatus
{
    /// <summary>The last good weights (what serving goes back to); null until the first publish is judged.</summary>
    [Id(0)] public WeightsVersion? Good { get; init; }

    /// <summary>A rollback halted publishing: <c>freshet resume</c> (a full checkpoint serving switches to) starts a new line.</summary>
    [Id(1)] public bool Halted { get; init; }

    [Id(2)] public int Rollbacks { get; init; }

    /// <summary>Checks that made a version good.</summary>
    [Id(3)] public int Promotions { get; init; }

    /// <summary>The latest check, and the verdict of the latest rollback.</summary>
    [Id(4)] public GuardVerdict? Last { get; init; }
    [Id(5)] public GuardVerdict? LastRollback { get; init; }
    [Id(6)] public DateTime? LastRollbackTime { get; init; }
}
