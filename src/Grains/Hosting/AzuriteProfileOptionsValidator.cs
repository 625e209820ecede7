using Microsoft.Extensions.Options;

namespace Freshet.Grains.Hosting;

public sealed class AzuriteProfileOptionsValidator : IValidateOptions<AzuriteProfileOptions>
{
    public ValidateOptionsResult Validate(string? name, AzuriteProfileOptions o) =>
        o.StorageConnectionString is { } cs && !cs.Contains('=', StringComparison.Ordinal)
            ? ValidateOptionsResult.Fail($"{FreshetNames.SiloSection}:StorageConnectionString: not a connection string (expected key=value pairs, e.g. {AzuriteProfileOptions.Emulator})")
            : ValidateOptionsResult.Success;
}
