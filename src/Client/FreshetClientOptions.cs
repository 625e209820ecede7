namespace Freshet.Client;

/// <summary>How the client reaches a Freshet cluster (configuration section <c>Freshet:Client</c>).</summary>
public sealed class FreshetClientOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string Section = "Freshet:Client";

    /// <summary><c>local</c> (a localhost cluster) or <c>azurite</c> (membership in Azure Storage).</summary>
    public string Profile { get; set; } = "local";

    /// <summary>Storage connection string of the azurite profile (default: the emulator on its standard ports).</summary>
    public string StorageConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>Gateway port of a localhost cluster (the local profile).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Gateway ports of a localhost cluster with several gateways (replaces <see cref="GatewayPort"/> when set): the
    /// client spreads its calls over them and goes on through the others when one is gone. On the azurite profile, the
    /// client then uses only these gateways instead of every silo's from the membership table (for example only the
    /// serving silos').
    /// </summary>
    public int[]? GatewayPorts { get; set; }

    /// <summary>The cluster's id, as its silos have it.</summary>
    public string ClusterId { get; set; } = FreshetNames.DefaultClusterId;

    /// <summary>How long to keep trying to reach a gateway at start before giving up.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a scoring call keeps retrying while a silo or gateway it went through is going away.</summary>
    public TimeSpan ScoringRetryLimit { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one try of a scoring call waits for its answer before it is sent again (a silo killed with the call in flight never answers).</summary>
    public TimeSpan ScoringCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>TLS to the gateways (mutual): this client's certificate, a .pfx/.p12 or PEM file with its private key; empty: plain TCP.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/> when it is not in the same file.</summary>
    public string? TlsCertificateKey { get; set; }

    /// <summary>The password of a .pfx/.p12 <see cref="TlsCertificate"/> (give it by environment variable, never in a file).</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Silo certificates trusted besides this client's own (thumbprints, SHA-1 or SHA-256, comma-separated).</summary>
    public string? TlsTrustedThumbprints { get; set; }

    /// <summary>The service's id, as its silos have it (kept across deployments of the cluster).</summary>
    public string ServiceId { get; set; } = FreshetNames.DefaultServiceId;
}
