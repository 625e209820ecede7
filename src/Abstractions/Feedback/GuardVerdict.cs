using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>One check of the guard, with both figures on the same rows.</summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-verdict")]
public sealed record GuardVerdict
{
    [Id(0)] public GuardAction Action { get; init; }

    /// <summary>The good weights the line was compared with: the version that shadowed every judged row.</summary>
    [Id(1)] public WeightsVersion Good { get; init; }

    /// <summary>The oldest and newest served versions judged (the oldest becomes good on <see cref="GuardAction.Good"/>); null before the first look.</summary>
    [Id(2)] public WeightsVersion? From { get; init; }
    [Id(3)] public WeightsVersion? To { get; init; }

    /// <summary>Paired rows judged.</summary>
    [Id(4)] public long Pairs { get; init; }

    /// <summary>Mean CTR log-loss of what serving answered, and of the good weights, on those rows.</summary>
    [Id(5)] public double ServedLogLoss { get; init; }
    [Id(6)] public double GoodLogLoss { get; init; }

    /// <summary>The one-sided paired z statistic of served minus good.</summary>
    [Id(7)] public double Z { get; init; }

    /// <summary>The test's statistic: the same, of each row's served minus good beyond the tolerance (served - good - tolerance × good); a rollback needs it at <see cref="Boundary"/> or above.</summary>
    [Id(8)] public double MarginZ { get; init; }

    /// <summary>The z a rollback needs at this many pairs, so that no number of looks makes a false one likelier than <see cref="GuardSpec.FalseAlarm"/> (<c>MixtureSprt.Boundary</c>).</summary>
    [Id(9)] public double Boundary { get; init; }

    /// <summary>(served - good) / good.</summary>
    public double Relative => GoodLogLoss > 0 ? (ServedLogLoss - GoodLogLoss) / GoodLogLoss : 0;

    public override string ToString() => From is null
        ? $"waiting: {Pairs} pairs against {Good} with their click windows closed"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{(Action == GuardAction.Wait ? "not worse yet: " : "")}{From}..{To} against {Good} on {Pairs} paired rows: log-loss {ServedLogLoss:F4} served, {GoodLogLoss:F4} good ({Relative:+0.0%;-0.0%}), z {Z:F2}, beyond the tolerance {MarginZ:F2} (a rollback needs {Boundary:F2})");
}
