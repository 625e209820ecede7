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

    /// <summary>
    /// The changing and dense tiers, and of the frozen tier only rows created since the base
    /// checkpoint (fresh ids, DESIGN.md section 6.1); established frozen rows stay as restored.
    /// </summary>
    PartFresh,
}

public static class StrategyExtensions
{
    public static bool Trains(this Strategy strategy, Tier tier) => strategy switch
    {
        Strategy.All or Strategy.PartFresh => true,
        Strategy.Part => tier is Tier.Changing or Tier.Dense,
        Strategy.Mlp => tier == Tier.Dense,
        _ => false,
    };

    public static string Name(this Strategy strategy) => strategy == Strategy.PartFresh ? "part+fresh" : strategy.ToString().ToLowerInvariant();

    /// <summary>The names, in the order of the method's expected gains: base, mlp, part, part+fresh, all.</summary>
    public static readonly IReadOnlyList<Strategy> Ordered = [Strategy.Base, Strategy.Mlp, Strategy.Part, Strategy.PartFresh, Strategy.All];

    public static bool TryParse(string text, out Strategy strategy)
    {
        if (string.Equals(text, "part+fresh", StringComparison.OrdinalIgnoreCase))
        {
            strategy = Strategy.PartFresh;
            return true;
        }
        return Enum.TryParse(text, ignoreCase: true, out strategy) && Enum.IsDefined(strategy) && strategy != Strategy.PartFresh;
    }
}
