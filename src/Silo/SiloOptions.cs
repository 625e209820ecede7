namespace Freshet.Silo;

/// <summary>The silo in its cluster: profile, ports, names, roles (section <c>Freshet:Silo</c>, or <c>Freshet__Silo__*</c> variables).</summary>
public sealed class SiloOptions
{
    public const string Section = FreshetNames.SiloSection;

    /// <summary>
    /// <c>local</c>: localhost clustering, memory (or folder) grain state, memory streams, checkpoints in a folder
    /// (<see cref="Grains.Hosting.LocalProfileOptions"/>). <c>azurite</c>: Azure Table clustering, Azure Blob grain
    /// state and checkpoints, Azure Queue streams, by connection string (<see cref="Grains.Hosting.AzuriteProfileOptions"/>).
    /// <c>azure</c>: the same by endpoint and managed identity, streams on Event Hubs (<see cref="Grains.Hosting.AzureProfileOptions"/>).
    /// </summary>
    public string Profile { get; set; } = "local";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    public string ClusterId { get; set; } = FreshetNames.DefaultClusterId;

    public string ServiceId { get; set; } = FreshetNames.DefaultServiceId;

    /// <summary>What this silo does: <c>training</c>, <c>serving</c> or <c>training,serving</c>.</summary>
    public string Roles { get; set; } = "training,serving";

    /// <summary>Advertised address of this silo (azurite and azure profiles; default loopback).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Local profile: the silo port of the first silo of a localhost cluster of several silos (null: this silo is the first).</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>
    /// Whether this silo takes clients' admin calls (start, stop, mode, checkpoint, rollback, jobs). Those calls
    /// go to job and deployment grains, which are placed on training silos that take them; off, a silo hosts
    /// none and refuses any that reach it. Turn it off on serving-only silos that face scoring traffic; who may
    /// make admin calls at all is the admin certificates' rule (TLS). Status stays readable.
    /// </summary>
    public bool AdminCalls { get; set; } = true;
}

/// <summary>TLS between silos and from clients (mutual), who may make admin calls, and the key that tells silos from clients.</summary>
public sealed class SiloTlsOptions
{
    /// <summary>
    /// This silo's certificate, a .pfx/.p12 or PEM file with its private key; empty: plain TCP. Peers and clients
    /// must present a pinned certificate: the same one, or one in <see cref="TlsTrustedThumbprints"/>.
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
    /// The secret every silo of the cluster shares and no client holds: base64 of at least 32 random bytes (e.g.
    /// <c>openssl rand -base64 32</c>), by environment variable (<c>Freshet__Silo__ClusterKey</c>, from a secret store).
    /// Silos prove their calls to each other with it (anything else is a client's call, held to the client doors) and
    /// seal the weights they send serving with it. Required with TLS on; without it (TLS off, a development cluster) the
    /// key is derived from the cluster's names, which are no secret. Changing it is a full restart of the cluster.
    /// </summary>
    public string? ClusterKey { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(TlsCertificate);
}

/// <summary>The silo's HTTP side: health endpoints and the dashboard.</summary>
public sealed class SiloHttpOptions
{
    /// <summary>
    /// Port of <c>/health/startup</c>, <c>/health/ready</c>, <c>/health/live</c> (liveness touches no storage) and,
    /// with <see cref="Dashboard"/>, <c>/dashboard</c>. Loopback only except in the azure profile. Null: no HTTP server.
    /// </summary>
    public int? HttpPort { get; set; }

    /// <summary>The Orleans Dashboard at <c>/dashboard</c> on <see cref="HttpPort"/>.</summary>
    public bool Dashboard { get; set; }
}

/// <summary>Where metrics and traces go besides OTLP (on whenever <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set) and Azure Monitor (azure profile).</summary>
public sealed class SiloTelemetryOptions
{
    /// <summary>Also write metrics and traces to the console.</summary>
    public bool ConsoleTelemetry { get; set; }
}
