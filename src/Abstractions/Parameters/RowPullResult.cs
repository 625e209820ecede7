namespace Freshet.Parameters;

/// <summary>
/// Rows (float32, ids x dim) per table and counts (float64, ids x 2: positives, samples) per rate, in request
/// order, and the shard's part of every rate's totals (float64, 2 per rate field in layout order).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RowPullResult")]
public sealed record RowPullResult
{
    [Id(0)] public IReadOnlyList<byte[]> Rows { get; init; } = [];

    [Id(1)] public IReadOnlyList<byte[]> RateCounts { get; init; } = [];

    [Id(2)] public byte[] RateTotals { get; init; } = [];
}
