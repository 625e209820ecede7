using Freshet.Model.Serving;

namespace Freshet.Serving;

/// <summary>One serving silo's replica of a model: what it serves and how fresh it is.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.ReplicaStatus")]
public sealed record ReplicaStatus
{
    [Id(0)] public string Silo { get; init; } = "";
    [Id(1)] public string Model { get; init; } = "";
    /// <summary>The weights served; null before the first checkpoint loads.</summary>
    [Id(2)] public WeightsVersion? Weights { get; init; }

    /// <summary>The checkpoint this replica is loading or waiting for, when it is not the one served.</summary>
    [Id(4)] public long? TargetCheckpoint { get; init; }
    [Id(5)] public DateTime WeightsUtc { get; init; }
    [Id(6)] public TimeSpan WeightsAge { get; init; }
    [Id(7)] public long Applied { get; init; }
    [Id(8)] public long Duplicates { get; init; }
    [Id(9)] public long Refused { get; init; }
    [Id(10)] public long Gaps { get; init; }

    /// <summary>Per applied delta: milliseconds from the snapshot under the barrier to applied here (the latest few hundred).</summary>
    [Id(11)] public IReadOnlyList<double> FreshnessMs { get; init; } = [];

    /// <summary>The last delta this replica could not apply and why (the file or message named); null while all is well.</summary>
    [Id(12)] public string? Error { get; init; }

    /// <summary>The last good weights kept beside the served ones for the guard's shadow scoring (null: none).</summary>
    [Id(13)] public WeightsVersion? Good { get; init; }

    /// <summary>A guard rollback's ceiling: no delta after it on its checkpoint is served.</summary>
    [Id(14)] public WeightsVersion? Halt { get; init; }

    /// <summary>Scoring calls this replica answered since the silo loaded the model.</summary>
    [Id(15)] public long CallsScored { get; init; }

    /// <summary>Rows this replica scored since the silo loaded the model.</summary>
    [Id(16)] public long RowsScored { get; init; }

    /// <summary>Times the replica was behind the version serving follows (an announcement lost or late, a stream that stalled) and caught up from the store by itself.</summary>
    [Id(17)] public long CatchUps { get; init; }

    /// <summary>Scoring calls this replica refused because their time was further ahead of the silo's clock than <c>Freshet:Silo:MaxClockSkew</c>.</summary>
    [Id(18)] public long TimesRejected { get; init; }

    /// <summary>For the latest deltas applied from the weights stream: milliseconds from snapshot to their last chunk's arrival on this silo.</summary>
    [Id(19)] public IReadOnlyList<double> DeliveredMs { get; init; } = [];

    /// <summary>For the same deltas: milliseconds from that arrival to applied (decode, the replica's write lock, apply).</summary>
    [Id(20)] public IReadOnlyList<double> ApplyMs { get; init; } = [];
}
