using Freshet.Model.Data;

namespace Freshet.Model.Metrics;

/// <summary>Progressive-validation results of one task; null where a metric is undefined (no positives, no groups, no oracle).</summary>
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
    IReadOnlyList<WindowReport> Windows);
