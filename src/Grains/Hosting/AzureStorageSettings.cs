namespace Freshet.Grains.Hosting;

/// <summary>Where a silo keeps its cluster in Azure Storage (or Azurite): clustering table, grain state, checkpoints, sample and weight queues.</summary>
public sealed record AzureStorageSettings
{
    /// <summary>A storage connection string (the azurite profile), unless the service URIs with a token credential are configured (the azure profile).</summary>
    public string ConnectionString { get; init; } = "";

    public string CheckpointContainer { get; init; } = "checkpoints";

    public string StateContainer { get; init; } = "grainstate";

    public string ClusteringTable { get; init; } = FreshetNames.ClusteringTable;

    /// <summary>Azure queues behind the stream provider (a stream is hashed onto one); clients must use the same.</summary>
    public int Queues { get; init; } = FreshetNames.DefaultQueueCount;

    public IReadOnlyList<string> QueueNames => FreshetNames.QueueNames(Queues);
}
