namespace Freshet.Parameters;

/// <summary>Rows of one tier changed since the previous take, per table: ids (uint64) and rows (float32, ids x dim).</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.ChangedRows")]
public sealed record ChangedRows
{
    [Id(0)] public IReadOnlyList<string> Tables { get; init; } = [];
    [Id(1)] public IReadOnlyList<byte[]> Ids { get; init; } = [];
    [Id(2)] public IReadOnlyList<byte[]> Rows { get; init; } = [];
}
