namespace Freshet.Parameters;

/// <summary>A step's push to one shard: row gradients and label counts, numbered by the trainer's step.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RowPush")]
public sealed record RowPush
{
    [Id(0)] public string Job { get; init; } = "";
    [Id(1)] public string Trainer { get; init; } = "";
    [Id(2)] public long Step { get; init; }
    [Id(3)] public long Now { get; init; }
    [Id(4)] public IReadOnlyList<TableGradients> Tables { get; init; } = [];
    [Id(5)] public IReadOnlyList<RateCounts> Rates { get; init; } = [];
}
