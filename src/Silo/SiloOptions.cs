using Freshet.Hosting;
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

    /// <summary><see cref="Profile"/> as the code reads it (the validator has refused any other text at start).</summary>
    public FreshetProfile ProfileKind => FreshetProfiles.Parse(Profile, $"{Section}:Profile");

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    public string ClusterId { get; set; } = FreshetNames.DefaultClusterId;

    public string ServiceId { get; set; } = FreshetNames.DefaultServiceId;

    /// <summary>What this silo does: <c>training</c>, <c>serving</c> or <c>training,serving</c>.</summary>
    public string Roles { get; set; } = Grains.Placement.SiloRoles.Both.ToString();

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
