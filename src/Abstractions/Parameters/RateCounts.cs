namespace Freshet.Parameters;

/// <summary>
/// One rate's events of a step, one per entry: the key (uint64), the time it counts from (int64 UTC ticks), and
/// its positives and samples (float64 each).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RateCounts")]
public sealed record RateCounts
{
    [Id(0)] public int Index { get; init; }
    [Id(1)] public byte[] Ids { get; init; } = [];
    [Id(2)] public byte[] Positives { get; init; } = [];
    [Id(3)] public byte[] Samples { get; init; } = [];
    [Id(4)] public byte[] Times { get; init; } = [];
}
