namespace Freshet.Model.Data;

/// <summary>One event a running count adds: positives and samples (trials) at an event time.</summary>
public readonly record struct CountEvent(long Time, float Positives, float Samples);
