namespace Freshet.Parameters;

/// <summary>A step's pull from one shard: the ids of each table and rate that hash to it.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RowPull")]
public sealed record RowPull
{
    [Id(0)] public string Job { get; init; } = "";

    /// <summary>Event time of the step (UTC ticks).</summary>
    [Id(1)] public long Now { get; init; }

    [Id(2)] public IReadOnlyList<TableIds> Tables { get; init; } = [];

    [Id(3)] public IReadOnlyList<TableIds> Rates { get; init; } = [];
}
