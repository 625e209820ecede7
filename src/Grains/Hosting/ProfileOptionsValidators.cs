using Microsoft.Extensions.Options;

namespace Freshet.Grains.Hosting;

/// <summary>Each problem names its key under <c>Freshet:Silo</c> and what it must be.</summary>
public sealed class LocalProfileOptionsValidator : IValidateOptions<LocalProfileOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalProfileOptions o) =>
        string.IsNullOrWhiteSpace(o.CheckpointDirectory)
            ? ValidateOptionsResult.Fail($"{FreshetNames.SiloSection}:CheckpointDirectory: the local profile needs a folder for checkpoints")
            : ValidateOptionsResult.Success;
}
