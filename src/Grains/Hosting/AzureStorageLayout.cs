namespace Freshet.Grains.Hosting;

/// <summary>Where a silo keeps its cluster in Azure Storage: containers, table and queues (fixed names clients and silos share).</summary>
public sealed record AzureStorageLayout
{
    public string CheckpointContainer { get; init; } = "checkpoints";

    public string StateContainer { get; init; } = "grainstate";

    public string ClusteringTable { get; init; } = FreshetNames.ClusteringTable;

    /// <summary>Where the samples hubs' receivers start: delivery commits and restores' rewinds (<see cref="Streaming.HubCheckpoints"/>).</summary>
    public string HubCheckpointsTable { get; init; } = "freshethubs";

    /// <summary>Azure queues behind the stream provider (a stream is hashed onto one); clients must use the same.</summary>
    public int Queues { get; init; } = FreshetNames.DefaultQueueCount;

    public IReadOnlyList<string> QueueNames => FreshetNames.QueueNames(Queues);

    public static readonly AzureStorageLayout Default = new();
}
