using Freshet.Model.Schema;

namespace Freshet.Model.Training;

/// <summary>Which tiers a job trains (DESIGN.md section 1). It travels on the wire in job and deployment specs.</summary>
[GenerateSerializer, Alias("freshet.strategy")]
public enum Strategy
{
    /// <summary>Nothing: the model stays as restored.</summary>
    Base,

    /// <summary>The dense tier only.</summary>
    Mlp,

    /// <summary>The changing and the dense tiers.</summary>
    Part,

    /// <summary>Every tier.</summary>
    All,
}

public static class StrategyExtensions
{
    /// <summary>The names, as users type them.</summary>
    public const string Names = "base, mlp, part or all";

    public static bool Trains(this Strategy strategy, Tier tier) => strategy switch
    {
        Strategy.All => true,
        Strategy.Part => tier is Tier.Changing or Tier.Dense,
        Strategy.Mlp => tier == Tier.Dense,
        _ => false,
    };

    public static string Name(this Strategy strategy) => strategy.ToString().ToLowerInvariant();

    /// <summary>Parses base, mlp, part or all (case-insensitive); numbers are refused.</summary>
    public static bool TryParse(string? text, out Strategy strategy)
    {
        strategy = default;
        return text is not null && !text.Any(char.IsDigit) && Enum.TryParse(text, ignoreCase: true, out strategy) && Enum.IsDefined(strategy);
    }
}
