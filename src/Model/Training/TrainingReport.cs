using Freshet.Model.Metrics;

namespace Freshet.Model.Training;

/// <summary>What a streaming run did and how well it predicted, per task.</summary>
public sealed record TrainingReport(
    long Samples,
    long Steps,
    double Seconds,
    TaskReport Ctr,
    TaskReport Cvr,
    DateTime? FirstEventTime,
    DateTime? LastEventTime,
    long ExpiredRows)
{
    public double SamplesPerSecond => Seconds > 0 ? Samples / Seconds : 0;
}
