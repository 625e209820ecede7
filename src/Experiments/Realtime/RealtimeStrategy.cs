using Freshet.Deployments;
using Freshet.Model.Training;

namespace Freshet.Experiments;

/// <summary>
/// A strategy of the real-time comparison in the product's own terms: the training plan whose weights serving receives
/// each interval (base: none after the base model; part: the changing tier's deltas; part+fresh: with the frozen tier's
/// fresh rows; all: a full checkpoint every interval) and the deployment's mode (promotion: Models A and B).
/// </summary>
public readonly record struct RealtimeStrategy(TrainingPlan Plan, Mode Mode = Mode.Daily)
{
    public static readonly RealtimeStrategy Base = new(Strategy.Base);
    public static readonly RealtimeStrategy Part = new(Strategy.Part);
    public static readonly RealtimeStrategy PartFresh = new(new TrainingPlan(Strategy.Part, FreshRows: true));
    public static readonly RealtimeStrategy All = new(Strategy.All);
    public static readonly RealtimeStrategy Promotion = new(Strategy.All, Mode.Promotion);

    /// <summary>Every strategy, in the order of their expected gains.</summary>
    public static IReadOnlyList<RealtimeStrategy> Ordered { get; } = [Base, Part, PartFresh, All, Promotion];

    /// <summary>The name runs, reports and the command line use (<c>base</c>, <c>part</c>, <c>part+fresh</c>, <c>all</c>, <c>promotion</c>).</summary>
    public string Name => Mode == Mode.Promotion ? "promotion" : Plan.Name;

    public override string ToString() => Name;

    /// <summary>Whether the deployment trains at all (base serves the base model throughout).</summary>
    public bool Trains => Plan.Strategy != Strategy.Base;

    /// <summary>Whether serving gets a full checkpoint every interval rather than a delta.</summary>
    public bool CheckpointsEveryInterval => Plan.Strategy == Strategy.All && Mode == Mode.Daily;

    /// <summary>The deployment's job strategy: every tier trains, unless the plan is part without fresh rows.</summary>
    public Strategy JobStrategy => Plan == Part.Plan ? Strategy.Part : Strategy.All;

    /// <summary>Fresh frozen-tier rows a delta may carry: none for part, else the deployment's usual budget.</summary>
    public int FreshRowBudget => Plan == Part.Plan ? 0 : 10_000;

    /// <summary>The strategy named <paramref name="text"/>, if it is one.</summary>
    public static bool TryParse(string? text, out RealtimeStrategy strategy)
    {
        foreach (var s in Ordered)
        {
            if (s.Name == text)
            {
                strategy = s;
                return true;
            }
        }
        strategy = default;
        return false;
    }

    /// <summary>The strategies of a comma-separated list (<c>--strategies</c>), or an error naming the one that is not.</summary>
    public static IReadOnlyList<RealtimeStrategy> ParseList(string text)
    {
        var result = new List<RealtimeStrategy>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParse(name, out var s)) throw new ArgumentException($"--strategies: '{name}' is not a real-time strategy; use {string.Join(", ", Ordered)}");
            if (!result.Contains(s)) result.Add(s);
        }
        return result;
    }
}
