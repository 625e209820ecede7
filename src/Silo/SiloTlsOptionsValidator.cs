using Microsoft.Extensions.Options;

namespace Freshet.Silo;

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
