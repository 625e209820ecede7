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

    /// <summary>No sample this trainer scores from now on is older (UTC ticks): its rate events before it may settle.</summary>
    [Id(6)] public long Watermark { get; init; } = long.MaxValue;
}
