using Freshet.Model.Metrics;

namespace Freshet.Model.Training;

/// <summary>What a streaming run did and how well it predicted, per task; <see cref="Ctcvr"/>: pCTCVR on impressions, where a log has both labels.</summary>
public sealed record TrainingReport(
    long Samples,
    long Steps,
    double Seconds,
    TaskReport Ctr,
    TaskReport Cvr,
    DateTime? FirstEventTime,
    DateTime? LastEventTime,
    long ExpiredRows,
    TaskReport? Ctcvr = null)
{
    public double SamplesPerSecond => Seconds > 0 ? Samples / Seconds : 0;
}
