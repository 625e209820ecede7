using Freshet.Model.Serving;

namespace Freshet.Jobs;

/// <summary>One publish: a delta snapshotted under the sync-send barrier and sent on the weights stream.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Jobs.PublishResult")]
public sealed record PublishResult
{
    [Id(0)] public string Model { get; init; } = "";
    /// <summary>The delta published: its base checkpoint and sequence.</summary>
    [Id(1)] public WeightsVersion Weights { get; init; }
    [Id(3)] public long Bytes { get; init; }
    [Id(4)] public int Chunks { get; init; }
    [Id(5)] public long ChangingRows { get; init; }
    [Id(6)] public long FreshRows { get; init; }
    [Id(7)] public long FreshPending { get; init; }
    [Id(8)] public DateTime SnapshotUtc { get; init; }
    [Id(9)] public double BarrierPauseMs { get; init; }

    /// <summary>Milliseconds from the snapshot until the delta was retained in the store and every chunk sent on the weights stream.</summary>
    [Id(10)] public double SendMs { get; init; }
}
