using Freshet.Model.Data;

namespace Freshet.Model.Metrics;

/// <summary>
/// Progressive-validation results of one task; null where a metric is undefined (no positives, no groups, no oracle).
/// <see cref="BaselineAuc"/> is the schema's named counting baseline; <see cref="Baselines"/> every one scored
/// on the same samples (each id field's running rate by field name, and <c>mean</c>).
/// </summary>
public sealed record TaskReport(
    TaskKind Task,
    long Samples,
    long Positives,
    double? Auc,
    double? LogLoss,
    double? BaselineAuc,
    double? BaselineLogLoss,
    double? OracleAuc,
    double? GroupAuc,
    int Groups,
    IReadOnlyList<WindowReport> Windows,
    IReadOnlyDictionary<string, double?>? Baselines = null)
{
    /// <summary>The best AUC among the counting baselines (every id field's running rate, and their mean); null when none is defined.</summary>
    public double? BestBaselineAuc
    {
        get
        {
            var defined = Baselines?.Values.OfType<double>().ToList() ?? [];
            return defined.Count > 0 ? defined.Max() : BaselineAuc;
        }
    }
}
