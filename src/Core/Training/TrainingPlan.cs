using Freshet.Model.Schema;

namespace Freshet.Model.Training;

/// <summary>
/// What a run updates: the <see cref="Training.Strategy"/>, and whether frozen-tier rows created since the base
/// (fresh ids, DESIGN.md section 6.1) reach the model between checkpoints. <c>part+fresh</c> is
/// <c>part</c> with fresh rows: in-process the frozen tables train only their fresh rows; in a cluster the
/// trainers train every tier and each delta ships the fresh rows (<c>JobSpec.FreshRowBudget</c>).
/// </summary>
public readonly record struct TrainingPlan(Strategy Strategy, bool FreshRows = false)
{
    /// <summary>The plans in the order of the method's expected gains: base, mlp, part, part+fresh, all.</summary>
    public static readonly IReadOnlyList<TrainingPlan> Ordered =
        [new(Strategy.Base), new(Strategy.Mlp), new(Strategy.Part), new(Strategy.Part, FreshRows: true), new(Strategy.All)];

    public static implicit operator TrainingPlan(Strategy strategy) => new(strategy);

    /// <summary>Whether a step updates <paramref name="tier"/> (for a frozen table under fresh rows: only its fresh rows, see <see cref="FreshOnly"/>).</summary>
    public bool Trains(Tier tier) => Strategy.Trains(tier) || (FreshRows && tier == Tier.Frozen);

    /// <summary>Whether a table of <paramref name="tier"/> trains only rows created since the base.</summary>
    public bool FreshOnly(Tier tier) => FreshRows && tier == Tier.Frozen && !Strategy.Trains(tier);

    /// <summary>The name users type and reports print: base, mlp, part, part+fresh, all.</summary>
    public string Name => FreshRows && Strategy != Strategy.All ? $"{Strategy.Name()}+fresh" : Strategy.Name();

    public override string ToString() => Name;

    /// <summary>Parses a name from <see cref="Ordered"/> (case-insensitive).</summary>
    public static bool TryParse(string? text, out TrainingPlan plan)
    {
        plan = default;
        if (text is null) return false;
        var fresh = text.EndsWith("+fresh", StringComparison.OrdinalIgnoreCase);
        if (!StrategyExtensions.TryParse(fresh ? text[..^"+fresh".Length] : text, out var strategy)) return false;
        plan = new TrainingPlan(strategy, fresh);
        return !fresh || strategy == Strategy.Part;
    }
}
