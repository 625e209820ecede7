using Freshet.Model.Schema;

namespace Freshet.Model.Training;

/// <summary>Which tiers a job trains (DESIGN.md section 1).</summary>
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
    public static bool Trains(this Strategy strategy, Tier tier) => strategy switch
    {
        Strategy.All => true,
        Strategy.Part => tier is Tier.Changing or Tier.Dense,
        Strategy.Mlp => tier == Tier.Dense,
        _ => false,
    };

    public static string Name(this Strategy strategy) => strategy.ToString().ToLowerInvariant();

    public static bool TryParse(string text, out Strategy strategy) =>
        Enum.TryParse(text, ignoreCase: true, out strategy) && Enum.IsDefined(strategy);
}
