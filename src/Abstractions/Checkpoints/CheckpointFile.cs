namespace Freshet.Checkpoints;

/// <summary>A file a grain wrote into a checkpoint version, for the manifest.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Checkpoints.CheckpointFile")]
public sealed record CheckpointFile
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public string Kind { get; init; } = "";
    [Id(2)] public long Bytes { get; init; }
    [Id(3)] public string Sha256 { get; init; } = "";
    [Id(4)] public string? Table { get; init; }
    [Id(5)] public int? Shard { get; init; }
    [Id(6)] public int? Shards { get; init; }
    [Id(7)] public long? Rows { get; init; }

    /// <summary>The last step of each trainer the file's contents include.</summary>
    [Id(8)] public IReadOnlyDictionary<string, long>? Steps { get; init; }
}
