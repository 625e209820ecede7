using Freshet.Hosting;
using Microsoft.Extensions.Options;

namespace Freshet.Silo;

/// <summary>Fails the start with a message that names the configuration key and what it must be.</summary>
public sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    private const string Section = SiloOptions.Section;

    public ValidateOptionsResult Validate(string? name, SiloOptions o)
    {
        var errors = new List<string>();
        if (!FreshetProfiles.TryParse(o.Profile, out var profile))
        {
            errors.Add($"{Section}:Profile: '{o.Profile}' is not a profile; use one of: {string.Join(", ", FreshetProfiles.Names)}");
        }
        try
        {
            Grains.Placement.SiloRoles.Parse(o.Roles);
        }
        catch (ArgumentException e)
        {
            errors.Add($"{Section}:Roles: {e.Message}");
        }
        if (o.SiloPort is < 1 or > 65535) errors.Add($"{Section}:SiloPort: {o.SiloPort} is not a TCP port (1..65535)");
        if (o.GatewayPort is < 1 or > 65535) errors.Add($"{Section}:GatewayPort: {o.GatewayPort} is not a TCP port (1..65535)");
        if (o.SiloPort == o.GatewayPort) errors.Add($"{Section}:GatewayPort: must differ from SiloPort ({o.SiloPort})");
        if (string.IsNullOrWhiteSpace(o.ClusterId)) errors.Add($"{Section}:ClusterId: must not be empty");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) errors.Add($"{Section}:ServiceId: must not be empty");
        if (profile is FreshetProfile.Azurite or FreshetProfile.Azure && !System.Net.IPAddress.TryParse(o.AdvertisedAddress, out _))
        {
            errors.Add($"{Section}:AdvertisedAddress: '{o.AdvertisedAddress}' is not an IP address{(profile == FreshetProfile.Azure ? " (on AKS, the pod IP)" : "")}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
