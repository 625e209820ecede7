using Microsoft.Extensions.Options;

namespace Freshet.Silo;

/// <summary>Fails the start with a message that names the configuration key and what it must be.</summary>
public sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    private static readonly string[] Profiles = ["local"];

    public ValidateOptionsResult Validate(string? name, SiloOptions o)
    {
        var errors = new List<string>();
        if (!Profiles.Contains(o.Profile))
        {
            errors.Add($"{SiloOptions.Section}:Profile: '{o.Profile}' is not a profile; use one of: {string.Join(", ", Profiles)}");
        }
        if (o.SiloPort is < 1 or > 65535) errors.Add($"{SiloOptions.Section}:SiloPort: {o.SiloPort} is not a TCP port (1..65535)");
        if (o.GatewayPort is < 1 or > 65535) errors.Add($"{SiloOptions.Section}:GatewayPort: {o.GatewayPort} is not a TCP port (1..65535)");
        if (o.SiloPort == o.GatewayPort) errors.Add($"{SiloOptions.Section}:GatewayPort: must differ from SiloPort ({o.SiloPort})");
        if (string.IsNullOrWhiteSpace(o.ClusterId)) errors.Add($"{SiloOptions.Section}:ClusterId: must not be empty");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) errors.Add($"{SiloOptions.Section}:ServiceId: must not be empty");
        if (o.Profile == "local" && string.IsNullOrWhiteSpace(o.CheckpointDirectory)) errors.Add($"{SiloOptions.Section}:CheckpointDirectory: the local profile needs a folder for checkpoints");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
