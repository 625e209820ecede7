using Microsoft.Extensions.Options;

namespace Freshet.Silo;

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
