using System.Text.RegularExpressions;

namespace Freshet.Jobs;

/// <summary>
/// What a job's spec must be, apart from its schema (which the model core parses): one set of rules,
/// used by the command line before it sends a spec and by the orchestrator when one arrives. Each
/// problem names its field and how to fix it.
/// </summary>
public static partial class JobSpecRules
{
    public const int MaxShards = 4096;

    public const int MaxTrainers = 1024;

    /// <summary>The strategies a cluster job takes.</summary>
    public static readonly IReadOnlyList<string> Strategies = ["base", "mlp", "part", "all"];

    public static string? Strategy(string strategy)
    {
        if (string.Equals(strategy, "part+fresh", StringComparison.OrdinalIgnoreCase))
        {
            return "strategy 'part+fresh' is for in-process runs; a cluster job gets it with strategy all, whose deltas carry the changing and dense tiers and the fresh frozen rows (established frozen rows move only with checkpoints)";
        }
        return Strategies.Contains(strategy, StringComparer.OrdinalIgnoreCase) ? null : $"strategy '{strategy}' is not a strategy; use {string.Join(", ", Strategies.Take(Strategies.Count - 1))} or {Strategies[^1]}";
    }

    public static string? Shards(int shards) => shards is < 1 or > MaxShards ? $"shards: {shards} is out of range; use 1..{MaxShards}" : null;

    public static string? Trainers(int trainers) => trainers is < 1 or > MaxTrainers ? $"trainers: {trainers} is out of range; use 1..{MaxTrainers}" : null;

    /// <summary>An empty model takes the schema's name.</summary>
    public static string? Model(string model) =>
        model.Length == 0 || ModelName().IsMatch(model) ? null : $"model: '{model}' must be 1-64 characters of a-z, 0-9, '-' or '_'";

    public static string? KeepCheckpoints(int keep) => keep < 1 ? $"keepCheckpoints: {keep}; keep at least 1" : null;

    /// <summary>Every problem of the spec, in field order; empty when it is good.</summary>
    public static IReadOnlyList<string> Problems(JobSpec spec) =>
        [.. new[] { Model(spec.Model), Strategy(spec.Strategy), Shards(spec.Shards), Trainers(spec.Trainers), KeepCheckpoints(spec.KeepCheckpoints) }.OfType<string>()];

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    private static partial Regex ModelName();
}
