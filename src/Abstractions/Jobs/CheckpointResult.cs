namespace Freshet.Jobs;

/// <summary>A full checkpoint taken under the sync-send barrier.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Jobs.CheckpointResult")]
public sealed record CheckpointResult
{
    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public long Version { get; init; }

    /// <summary>Each trainer's step count at the barrier: every file of the checkpoint is from these steps.</summary>
    [Id(2)] public IReadOnlyDictionary<string, long> Steps { get; init; } = new Dictionary<string, long>();

    /// <summary>How long trainers were held at the barrier.</summary>
    [Id(3)] public double BarrierPauseMs { get; init; }

    [Id(4)] public long Bytes { get; init; }
}
