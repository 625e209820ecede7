namespace Freshet.Parameters;

/// <summary>Rows (float32, ids x dim) per table and rate inputs (float32, ids x 2) per rate, in request order.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RowPullResult")]
public sealed record RowPullResult
{
    [Id(0)] public IReadOnlyList<byte[]> Rows { get; init; } = [];

    [Id(1)] public IReadOnlyList<byte[]> RateFeatures { get; init; } = [];
}
