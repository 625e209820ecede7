namespace Freshet.Model.Metrics;

/// <summary>Metrics of one event-time window.</summary>
public sealed record WindowReport(DateTime Start, long Samples, long Positives, double? Auc, double? LogLoss, double? BaselineAuc, double? OracleAuc);
