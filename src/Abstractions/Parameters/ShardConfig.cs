namespace Freshet.Parameters;

/// <summary>What a shard holds: which model (schema), which slice of the ids, how often it persists.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.ShardConfig")]
public sealed record ShardConfig
{
    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public string SchemaJson { get; init; } = "";
    [Id(2)] public int Shard { get; init; }
    [Id(3)] public int Shards { get; init; } = 1;

    /// <summary>How often the changing tier is written to grain state (also on deactivation).</summary>
    [Id(4)] public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(30);
}
