namespace Freshet.Model.Checkpoints;

/// <summary>One file of a checkpoint as its manifest lists it.</summary>
public sealed record ManifestFile
{
    public required string Name { get; init; }

    /// <summary><c>shard</c>, <c>dense</c> or <c>schema</c>.</summary>
    public required string Kind { get; init; }

    public required long Bytes { get; init; }

    /// <summary>Lower-case hex SHA-256 of the file's bytes.</summary>
    public required string Sha256 { get; init; }

    public string? Table { get; init; }

    public int? Shard { get; init; }

    public int? Shards { get; init; }

    public long? Rows { get; init; }

    /// <summary>The last step of each trainer that the file's contents include.</summary>
    public IReadOnlyDictionary<string, long>? Steps { get; init; }
}
