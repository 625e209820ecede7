namespace Freshet.Parameters;

/// <summary>A shard's part of a delta: its rows and rate counts that moved since the last take (encoded tables).</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.ShardDelta")]
public sealed record ShardDelta
{
    [Id(0)] public byte[] Payload { get; init; } = [];

    /// <summary>Changing-tier rows in the payload.</summary>
    [Id(1)] public int ChangingRows { get; init; }

    /// <summary>Fresh frozen-tier rows (ids new since the base checkpoint) in the payload.</summary>
    [Id(2)] public int FreshRows { get; init; }

    /// <summary>Fresh rows that changed but did not fit the budget: they go out with the next publish.</summary>
    [Id(3)] public int FreshPending { get; init; }
}
