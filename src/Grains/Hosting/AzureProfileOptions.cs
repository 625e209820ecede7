namespace Freshet.Grains.Hosting;

/// <summary>The azure profile's endpoints (by URI, no keys), its Event Hubs, and the identity the silo reaches them with.</summary>
public sealed class AzureProfileOptions
{
    /// <summary>The storage account's blob endpoint (deployment output <c>blobEndpoint</c>).</summary>
    public string? BlobEndpoint { get; set; }

    /// <summary>The storage account's table endpoint (deployment output <c>tableEndpoint</c>).</summary>
    public string? TableEndpoint { get; set; }

    /// <summary>The fully qualified Event Hubs namespace, e.g. <c>evhns-freshet-prod.servicebus.windows.net</c> (deployment output <c>eventHubsNamespace</c>).</summary>
    public string? EventHubsNamespace { get; set; }

    /// <summary>The Event Hub behind the Orleans streams (samples and weights streams are hashed onto its partitions).</summary>
    public string StreamsHub { get; set; } = "weights";

    /// <summary>The Event Hub plain JSON producers send CTR samples to (docs/PRODUCERS.md).</summary>
    public string CtrSamplesHub { get; set; } = "ctr-samples";

    /// <summary>The Event Hub plain JSON producers send CVR samples to.</summary>
    public string CvrSamplesHub { get; set; } = "cvr-samples";

    /// <summary>The Event Hub applications send labels (clicks, conversions of served predictions) to, as plain JSON (docs/PRODUCERS.md).</summary>
    public string LabelsHub { get; set; } = "labels";

    public string ConsumerGroup { get; set; } = "freshet";

    /// <summary>
    /// The jobs plain JSON producers feed, each with its trainer count (<c>Freshet:Silo:SampleJobs:shop-main=4</c>);
    /// an event for a job not listed is skipped and logged.
    /// </summary>
    public Dictionary<string, int> SampleJobs { get; set; } = [];

    /// <summary>Client id of the user-assigned managed identity (deployment output <c>identityClientId</c>); empty uses the environment's default credential.</summary>
    public string? ManagedIdentityClientId { get; set; }

    public Uri BlobUri => new(BlobEndpoint!);

    public Uri TableUri => new(TableEndpoint!);

    private Azure.Core.TokenCredential? _credential;

    /// <summary>
    /// The silos' managed identity (workload identity on AKS), else the environment's default: one credential for the
    /// storage, Event Hubs and telemetry clients, so its token cache is shared.
    /// </summary>
    public Azure.Core.TokenCredential Credential() => _credential ??= new Azure.Identity.DefaultAzureCredential(new Azure.Identity.DefaultAzureCredentialOptions
    {
        ManagedIdentityClientId = string.IsNullOrWhiteSpace(ManagedIdentityClientId) ? null : ManagedIdentityClientId,
        WorkloadIdentityClientId = string.IsNullOrWhiteSpace(ManagedIdentityClientId) ? null : ManagedIdentityClientId,
    });
}
