using Freshet.Model.Training;

namespace Freshet.Jobs;

/// <summary>
/// What a job's spec must be, apart from its schema (which the model core parses): one set of rules,
/// used by the command line before it sends a spec and by the orchestrator when one arrives. Each
/// problem names its field and how to fix it.
/// </summary>
public static class JobSpecRules
{
    public const int MaxShards = 4096;

    public const int MaxTrainers = 1024;

    /// <summary>Parses a job's strategy as typed (base, mlp, part, all); the problem, or null.</summary>
    public static string? Strategy(string text, out Strategy strategy)
    {
        if (StrategyExtensions.TryParse(text, out strategy)) return null;
        return string.Equals(text, "part+fresh", StringComparison.OrdinalIgnoreCase)
            ? PartWithFreshRows
            : $"strategy '{text}' is not a strategy; use {StrategyExtensions.Names}";
    }

    /// <summary>A training plan as a cluster job's strategy: the plan's strategy, or the problem (fresh rows are a job's <c>freshRowBudget</c>).</summary>
    public static string? Strategy(TrainingPlan plan, out Strategy strategy)
    {
        strategy = plan.Strategy;
        return plan.FreshRows ? PartWithFreshRows : Strategy(plan.Strategy);
    }

    private const string PartWithFreshRows = "strategy 'part+fresh' is part with fresh rows: a cluster job gets it with strategy all (or part), whose deltas carry the changing and dense tiers and the fresh frozen rows up to --fresh-row-budget (established frozen rows move only with checkpoints)";

    public static string? Strategy(Strategy strategy) => Enum.IsDefined(strategy) ? null : $"strategy: {(int)strategy} is not a strategy; use {StrategyExtensions.Names}";

    public static string? FreshRowBudget(int budget) => budget < 0 ? $"freshRowBudget: {budget}; use 0 (no fresh rows in deltas) or more" : null;

    public static string? Shards(int shards) => shards is < 1 or > MaxShards ? $"shards: {shards} is out of range; use 1..{MaxShards}" : null;

    public static string? Trainers(int trainers) => trainers is < 1 or > MaxTrainers ? $"trainers: {trainers} is out of range; use 1..{MaxTrainers}" : null;

    /// <summary>An empty model takes the schema's name.</summary>
    public static string? Model(string model) => model.Length == 0 ? null : Freshet.Model.Schema.NameRule.Problem(model, "model");

    public static string? KeepCheckpoints(int keep) => keep < 1 ? $"keepCheckpoints: {keep}; keep at least 1" : null;

    /// <summary>Every problem of the spec, in field order; empty when it is good.</summary>
    public static IReadOnlyList<string> Problems(JobSpec spec) =>
        [.. new[] { Model(spec.Model), Admin.AdminLimits.Schema(spec.SchemaJson), Strategy(spec.Strategy), Shards(spec.Shards), Trainers(spec.Trainers), KeepCheckpoints(spec.KeepCheckpoints), FreshRowBudget(spec.FreshRowBudget) }.OfType<string>()];
}
