using Microsoft.Extensions.Options;

namespace Freshet.Grains.Hosting;

/// <summary>Each problem names its key under <c>Freshet:Silo</c> and what it must be.</summary>
public sealed class SiloLimitsOptionsValidator : IValidateOptions<SiloLimitsOptions>
{
    /// <summary>The widest skew taken: beyond a day a wrong clock is not skew.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromDays(1);

    /// <summary>The most models a silo may be told to hold loaded.</summary>
    public const int MaxModels = 1024;

    public ValidateOptionsResult Validate(string? name, SiloLimitsOptions o)
    {
        var errors = new List<string>();
        if (o.MaxClockSkew < TimeSpan.Zero || o.MaxClockSkew > MaxSkew)
        {
            errors.Add($"{FreshetNames.SiloSection}:MaxClockSkew: {o.MaxClockSkew}; give 00:00:00 to 1.00:00:00 (how far ahead of the silo's clock a time on the wire may be; 00:05:00 by default)");
        }
        if (o.MaxServedModels is < 1 or > MaxModels)
        {
            errors.Add($"{FreshetNames.SiloSection}:MaxServedModels: {o.MaxServedModels}; give 1 to {MaxModels} (models a serving silo holds loaded at once; 16 by default)");
        }
        if (o.HeapCompactionInterval < TimeSpan.Zero || o.HeapCompactionInterval > MaxSkew)
        {
            errors.Add($"{FreshetNames.SiloSection}:HeapCompactionInterval: {o.HeapCompactionInterval}; give 00:00:00 (off) to 1.00:00:00 (the least time between two heap compactions after a checkpoint; 00:01:00 by default)");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
