namespace Freshet.Serving;

/// <summary>One sequence shard's state: keys held, keys evicted past its cap (since it activated) and its cap (0 before its first call gave it bounds).</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-shard-status")]
public sealed record SequenceShardStatus(
    [property: Id(0)] int Keys,
    [property: Id(1)] long Evicted,
    [property: Id(2)] long MaxKeys);
