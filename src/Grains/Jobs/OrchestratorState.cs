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
    [Id(6)] public long? PublishBase { get; set; }
    [Id(7)] public long PublishSequence { get; set; }
    [Id(8)] public DateTime? LastPublishUtc { get; set; }
}
