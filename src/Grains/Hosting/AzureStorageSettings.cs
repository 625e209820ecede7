namespace Freshet.Grains.Hosting;

/// <summary>Where a silo keeps its cluster in Azure Storage (or Azurite): clustering table, grain state, checkpoints, sample and weight queues.</summary>
public sealed record AzureStorageSettings
{
    /// <summary>A storage connection string (the azurite profile), unless the service URIs with a token credential are configured (the azure profile).</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>The azure profile: the blob endpoint and the credential that reaches it (instead of a connection string).</summary>
    public Uri? BlobEndpoint { get; init; }
    public Azure.Core.TokenCredential? Credential { get; init; }

    public string CheckpointContainer { get; init; } = "checkpoints";

    public string StateContainer { get; init; } = "grainstate";

    public string ClusteringTable { get; init; } = FreshetNames.ClusteringTable;

    /// <summary>Azure queues behind the stream provider (a stream is hashed onto one); clients must use the same.</summary>
    public int Queues { get; init; } = FreshetNames.DefaultQueueCount;

    public IReadOnlyList<string> QueueNames => FreshetNames.QueueNames(Queues);
}

/// <summary>The azure profile's endpoints (by URI, no keys) and the credential the silo reaches them with.</summary>
public sealed record AzureSettings
{
    public required Uri BlobEndpoint { get; init; }
    public required Uri TableEndpoint { get; init; }

    /// <summary>Fully qualified Event Hubs namespace, e.g. <c>evhns-freshet-prod.servicebus.windows.net</c>.</summary>
    public required string EventHubsNamespace { get; init; }

    /// <summary>The Event Hub behind the Orleans stream provider (samples and weights streams are hashed onto its partitions).</summary>
    public string StreamsHub { get; init; } = "weights";

    public string ConsumerGroup { get; init; } = "freshet";

    /// <summary>The Event Hubs plain JSON producers send CTR and CVR samples to (docs/PRODUCERS.md).</summary>
    public string CtrSamplesHub { get; init; } = "ctr-samples";

    public string CvrSamplesHub { get; init; } = "cvr-samples";

    /// <summary>Jobs fed from the samples hubs, with their trainer counts (the rule that picks an event's trainer needs them).</summary>
    public IReadOnlyDictionary<string, int> SampleJobs { get; init; } = new Dictionary<string, int>();

    public required Azure.Core.TokenCredential Credential { get; init; }
}
