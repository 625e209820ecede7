using Freshet.Model.Data;

namespace Freshet.Parameters;

/// <summary>One tower's weights (float32, parameter order) and batch-norm buffers (raw), at a version.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.DenseTowerState")]
public sealed record DenseTowerState
{
    [Id(0)] public TaskKind Task { get; init; }

    /// <summary>Bumped by every step of this tower.</summary>
    [Id(1)] public long Version { get; init; }

    [Id(2)] public byte[] Parameters { get; init; } = [];

    [Id(3)] public byte[] Buffers { get; init; } = [];
}
