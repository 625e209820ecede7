namespace Freshet.Parameters;

/// <summary>One table's (or rate's) distinct ids of a step as little-endian uint64, with occurrence counts as int32.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.TableIds")]
public sealed record TableIds
{
    [Id(0)] public int Index { get; init; }

    /// <summary>The step trains this table: missing rows are created (after admission).</summary>
    [Id(1)] public bool Train { get; init; }

    [Id(2)] public byte[] Ids { get; init; } = [];

    [Id(3)] public byte[] Occurrences { get; init; } = [];
}
