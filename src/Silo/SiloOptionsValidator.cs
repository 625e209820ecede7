using Microsoft.Extensions.Options;

namespace Freshet.Silo;

/// <summary>Fails the start with a message that names the configuration key and what it must be.</summary>
public sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    private const string Section = SiloOptions.Section;
    private static readonly string[] Profiles = ["local", "azurite", "azure"];

    public ValidateOptionsResult Validate(string? name, SiloOptions o)
    {
        var errors = new List<string>();
        if (!Profiles.Contains(o.Profile))
        {
            errors.Add($"{Section}:Profile: '{o.Profile}' is not a profile; use one of: {string.Join(", ", Profiles)}");
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
        if (o.Profile is "azurite" or "azure" && !System.Net.IPAddress.TryParse(o.AdvertisedAddress, out _))
        {
            errors.Add($"{Section}:AdvertisedAddress: '{o.AdvertisedAddress}' is not an IP address{(o.Profile == "azure" ? " (on AKS, the pod IP)" : "")}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class SiloTlsOptionsValidator : IValidateOptions<SiloTlsOptions>
{
    private const string Section = SiloOptions.Section;

    public ValidateOptionsResult Validate(string? name, SiloTlsOptions o)
    {
        var errors = new List<string>();
        if (o.Enabled)
        {
            try
            {
                using var _ = Freshet.Security.FreshetTls.Load(o.TlsCertificate!, o.TlsCertificateKey, o.TlsCertificatePassword, $"{Section}:TlsCertificate");
            }
            catch (ArgumentException e)
            {
                errors.Add(e.Message);
            }
        }
        try
        {
            Freshet.Security.FreshetTls.ParseThumbprints(o.TlsTrustedThumbprints, $"{Section}:TlsTrustedThumbprints");
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
        if (!string.IsNullOrWhiteSpace(o.ClusterKey))
        {
            if (Grains.Admin.ClusterKey.Problem(o.ClusterKey, $"{Section}:ClusterKey") is { } problem) errors.Add(problem);
        }
        else if (o.Enabled)
        {
            errors.Add($"{Section}:ClusterKey: with TLS on, give every silo the same cluster key (base64 of at least {Grains.Admin.ClusterKey.MinBytes} random bytes, e.g. `openssl rand -base64 32`, by environment variable Freshet__Silo__ClusterKey) and no client: silos prove their calls and seal the weights they send with it");
        }
        try
        {
            var admins = Freshet.Security.FreshetTls.ParseThumbprints(o.AdminCertificates, $"{Section}:AdminCertificates");
            if (admins.Count > 0 && !o.Enabled)
            {
                errors.Add($"{Section}:AdminCertificates: admin certificates are checked on TLS connections; set {Section}:TlsCertificate too, or remove them");
            }
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <param name="silo">The silo's ports, which the HTTP port must not take.</param>
public sealed class SiloHttpOptionsValidator(SiloOptions silo) : IValidateOptions<SiloHttpOptions>
{
    private const string Section = SiloOptions.Section;

    public ValidateOptionsResult Validate(string? name, SiloHttpOptions o)
    {
        var errors = new List<string>();
        if (o.HttpPort is { } http)
        {
            if (http is < 1 or > 65535) errors.Add($"{Section}:HttpPort: {http} is not a TCP port (1..65535)");
            else if (http == silo.SiloPort || http == silo.GatewayPort) errors.Add($"{Section}:HttpPort: must differ from SiloPort and GatewayPort ({silo.SiloPort}, {silo.GatewayPort})");
        }
        if (o.Dashboard && o.HttpPort is null) errors.Add($"{Section}:Dashboard: the dashboard is served on the HTTP port; set {Section}:HttpPort too");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
