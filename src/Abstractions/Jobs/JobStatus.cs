using Freshet.Model.Serving;

namespace Freshet.Jobs;

/// <summary>A job as its orchestrator sees it.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Jobs.JobStatus")]
public sealed record JobStatus
{
    [Id(0)] public string Job { get; init; } = "";
    [Id(1)] public JobState State { get; init; }
    [Id(2)] public JobSpec? Spec { get; init; }
    [Id(3)] public long? LastCheckpoint { get; init; }
    [Id(4)] public DateTime? LastCheckpointTime { get; init; }
    [Id(5)] public double LastBarrierPauseMs { get; init; }
    [Id(6)] public IReadOnlyList<TrainerStatus> Trainers { get; init; } = [];
    [Id(7)] public string? Error { get; init; }

    /// <summary>The last delta this job published (its base checkpoint and sequence; delta 0: none yet on that base), and its time.</summary>
    [Id(8)] public WeightsVersion? Published { get; init; }
    [Id(10)] public DateTime? LastPublishUtc { get; init; }

    /// <summary>Why the last checkpoint attempt failed, when it did and none has succeeded since (kept in memory: storage may be what failed).</summary>
    [Id(11)] public string? LastCheckpointError { get; init; }

    [Id(12)] public DateTime? LastCheckpointErrorTime { get; init; }
}
