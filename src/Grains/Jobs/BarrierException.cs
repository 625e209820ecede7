
namespace Freshet.Grains.Jobs;

/// <summary>A trainer did not reach the step boundary; no trainer was left held.</summary>
public sealed class BarrierException(string message, Exception? inner) : Exception(message, inner);
