namespace Freshet.Parameters;

/// <summary>
/// Rows (float32, ids x dim) per table; per rate, in request order, the settled counts (float64, ids x 2:
/// positives, samples) and the events not settled yet (records of int32 position in the request, int64 time,
/// float64 positives, float64 samples); and the shard's part of every rate's settled totals (float64, 2 per
/// rate field in layout order).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RowPullResult")]
public sealed record RowPullResult
{
    [Id(0)] public IReadOnlyList<byte[]> Rows { get; init; } = [];

    [Id(1)] public IReadOnlyList<byte[]> RateCounts { get; init; } = [];

    [Id(2)] public byte[] RateTotals { get; init; } = [];

    [Id(3)] public IReadOnlyList<byte[]> RatePending { get; init; } = [];
}
