namespace Freshet.Serving;

/// <summary>A sequence field's bounds (its schema's <c>maxLength</c>, <c>expireAfter</c> and <c>maxRows</c>; keys spread over the shards).</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-bounds")]
public sealed record SequenceBounds(
    [property: Id(0)] int Length,
    [property: Id(1)] long ExpireTicks,
    [property: Id(2)] long MaxKeys);
