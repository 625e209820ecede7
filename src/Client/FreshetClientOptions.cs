namespace Freshet.Client;

/// <summary>How the client reaches a Freshet cluster (configuration section <c>Freshet:Client</c>).</summary>
public sealed class FreshetClientOptions
{
    public const string Section = "Freshet:Client";

    /// <summary><c>local</c> (a localhost cluster) or <c>azurite</c> (membership and streams in Azure Storage).</summary>
    public string Profile { get; set; } = "local";

    /// <summary>Storage connection string of the azurite profile (default: the emulator on its standard ports).</summary>
    public string StorageConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>Gateway port of a localhost cluster (the local profile).</summary>
    public int GatewayPort { get; set; } = 30000;

    public string ClusterId { get; set; } = FreshetNames.DefaultClusterId;

    /// <summary>How long to keep trying to reach a gateway at start before giving up.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a scoring call keeps retrying while a silo or gateway it went through is going away.</summary>
    public TimeSpan ScoringRetryLimit { get; set; } = TimeSpan.FromSeconds(30);

    public string ServiceId { get; set; } = FreshetNames.DefaultServiceId;
}
