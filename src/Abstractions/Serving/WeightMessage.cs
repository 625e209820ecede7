using Freshet.Model.Serving;

namespace Freshet.Serving;

/// <summary>A message on the <c>weights</c> stream of a model: a delta chunk, or a checkpoint / rollback announcement.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.WeightMessage")]
public sealed record WeightMessage
{
    [Id(0)] public WeightMessageKind Kind { get; init; }
    [Id(1)] public string Model { get; init; } = "";

    /// <summary>A delta's version (its base checkpoint and sequence), or the checkpoint announced (delta 0).</summary>
    [Id(2)] public WeightsVersion Weights { get; init; }

    [Id(4)] public int Chunk { get; init; }
    [Id(5)] public int Chunks { get; init; } = 1;

    /// <summary>This chunk's bytes of the encoded delta (at most ~900 KB).</summary>
    [Id(6)] public byte[] Payload { get; init; } = [];

    /// <summary>When the delta's snapshot was taken under the barrier (UTC).</summary>
    [Id(7)] public DateTime SnapshotUtc { get; init; }
}
