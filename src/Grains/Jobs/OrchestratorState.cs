using Freshet.Model.Serving;
using Freshet.Jobs;

namespace Freshet.Grains.Jobs;

/// <summary>A job's persisted state: its spec, where it is, and its last checkpoint.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Jobs.OrchestratorState")]
public sealed class OrchestratorState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public long? LastCheckpoint { get; set; }
    [Id(3)] public DateTime? LastCheckpointTime { get; set; }
    [Id(4)] public double LastBarrierPauseMs { get; set; }
    [Id(5)] public string? Error { get; set; }
    /// <summary>The last delta published: its base checkpoint (the one serving was told) and sequence; delta 0 before the first on that base.</summary>
    [Id(6)] public WeightsVersion? Published { get; set; }
    [Id(8)] public DateTime? LastPublishUtc { get; set; }

    /// <summary>Checkpoint versions that failed before they committed and whose leftovers storage has not yet let the job remove.</summary>
    [Id(9)] public List<long> Abandoned { get; set; } = [];
}
