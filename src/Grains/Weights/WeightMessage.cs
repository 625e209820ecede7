using Freshet.Model.Serving;

namespace Freshet.Grains.Weights;

/// <summary>
/// A message on a model's weights stream (<see cref="WeightsChannel"/>): a delta chunk, or an announcement (checkpoint,
/// rollback, the guard's good weights and rollback). Only silos write them, and each is sealed (<see cref="Seal"/>) under
/// a key derived from the cluster key; a replica acts on sealed messages only.
/// </summary>
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

    /// <summary>HMAC-SHA256 of every field above under the weights key (<see cref="WeightsChannel.Seal"/>); empty: not sealed, not acted on.</summary>
    [Id(8)] public byte[] Seal { get; init; } = [];
}
