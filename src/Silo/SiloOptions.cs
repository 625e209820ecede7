using System.ComponentModel.DataAnnotations;

namespace Freshet.Silo;

/// <summary>Settings of a Freshet silo (configuration section <c>Freshet:Silo</c>, or <c>FRESHET__SILO__*</c> variables).</summary>
public sealed class SiloOptions
{
    public const string Section = "Freshet:Silo";

    /// <summary>
    /// <c>local</c>: localhost clustering, memory (or folder) grain state, memory streams, checkpoints in a folder.
    /// <c>azurite</c>: Azure Table clustering, Azure Blob grain state and checkpoints, Azure Queue streams,
    /// against the Azure Storage emulator (or any storage account given by connection string).
    /// </summary>
    [Required]
    public string Profile { get; set; } = "local";

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    [Required, MinLength(1)]
    public string ClusterId { get; set; } = FreshetNames.DefaultClusterId;

    [Required, MinLength(1)]
    public string ServiceId { get; set; } = FreshetNames.DefaultServiceId;

    /// <summary>Where the local profile keeps full checkpoints.</summary>
    public string CheckpointDirectory { get; set; } = "checkpoints";

    /// <summary>What this silo does: <c>training</c>, <c>serving</c> or <c>training,serving</c>.</summary>
    public string Roles { get; set; } = "training,serving";

    /// <summary>Advertised address of this silo (azurite profile; default loopback).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Storage connection string of the azurite profile (default: the emulator on its standard ports).</summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>Local profile: the silo port of the first silo of a localhost cluster of several silos (null: this silo is the first).</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>Azure profile: the storage account's blob endpoint (deployment output <c>blobEndpoint</c>).</summary>
    public string? BlobEndpoint { get; set; }

    /// <summary>Azure profile: the storage account's table endpoint (deployment output <c>tableEndpoint</c>).</summary>
    public string? TableEndpoint { get; set; }

    /// <summary>Azure profile: the fully qualified Event Hubs namespace (deployment output <c>eventHubsNamespace</c>).</summary>
    public string? EventHubsNamespace { get; set; }

    /// <summary>Azure profile: the Event Hub behind the Orleans streams.</summary>
    public string StreamsHub { get; set; } = "weights";

    /// <summary>Azure profile: the Event Hub plain JSON producers send CTR samples to (docs/PRODUCERS.md).</summary>
    public string CtrSamplesHub { get; set; } = "ctr-samples";

    /// <summary>Azure profile: the Event Hub plain JSON producers send CVR samples to.</summary>
    public string CvrSamplesHub { get; set; } = "cvr-samples";

    /// <summary>
    /// Azure profile: the jobs plain JSON producers feed, each with its trainer count (<c>Freshet:Silo:SampleJobs:shop-main=4</c>);
    /// an event for a job not listed is skipped and logged.
    /// </summary>
    public Dictionary<string, int> SampleJobs { get; set; } = [];

    /// <summary>Azure profile: client id of the user-assigned managed identity (deployment output <c>identityClientId</c>); empty uses the environment's default credential.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Also write metrics and traces to the console (OTLP export is on whenever <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).</summary>
    public bool ConsoleTelemetry { get; set; }

    /// <summary>
    /// TLS between silos and from clients (mutual): this silo's certificate, a .pfx/.p12 or PEM file with its
    /// private key; empty: plain TCP. Peers and clients must present a pinned certificate: the same one, or one
    /// in <see cref="TlsTrustedThumbprints"/>.
    /// </summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/> when it is not in the same file.</summary>
    public string? TlsCertificateKey { get; set; }

    /// <summary>The password of a .pfx/.p12 <see cref="TlsCertificate"/> (by environment variable, <c>Freshet__Silo__TlsCertificatePassword</c>).</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Certificates trusted besides this silo's own: clients' and, during a rotation, the next one (thumbprints, comma-separated).</summary>
    public string? TlsTrustedThumbprints { get; set; }

    /// <summary>
    /// With TLS on, the certificates whose holders may make admin calls (thumbprints, comma-separated; they
    /// are trusted to connect too). Empty: this silo's own certificate only. Any other trusted client
    /// certificate may score and read status, nothing more.
    /// </summary>
    public string? AdminCertificates { get; set; }

    /// <summary>
    /// Whether clients may send admin calls (start, stop, mode, checkpoint, rollback, jobs) through this
    /// silo's gateway; turn it off on serving-only silos that face scoring traffic. Status stays readable.
    /// </summary>
    public bool AdminCalls { get; set; } = true;

    /// <summary>
    /// Port of the silo's HTTP endpoints: <c>/health/startup</c>, <c>/health/ready</c>, <c>/health/live</c>
    /// (liveness touches no storage) and, with <see cref="Dashboard"/>, <c>/dashboard</c>. Loopback only
    /// except in the azure profile. Null: no HTTP server.
    /// </summary>
    public int? HttpPort { get; set; }

    /// <summary>The Orleans Dashboard at <c>/dashboard</c> on <see cref="HttpPort"/>.</summary>
    public bool Dashboard { get; set; }

    /// <summary>Local profile: keep grain state in files here (jobs and the changing tier survive a restart); null keeps it in memory.</summary>
    public string? StateDirectory { get; set; }
}
