namespace Freshet.Serving;

/// <summary>A model's live sequence field over its shards: keys held, evicted, and the cap over all shards.</summary>
/// <param name="Field">The sequence field's name.</param>
/// <param name="Keys">Keys held, over the shards.</param>
/// <param name="Evicted">Keys evicted past the shards' caps since they activated.</param>
/// <param name="MaxKeys">The caps, summed (the field's <c>maxRows</c>, rounded down to a multiple of the shards).</param>
[GenerateSerializer, Immutable, Alias("freshet.sequence-status")]
public sealed record SequenceStatus(
    [property: Id(0)] string Field,
    [property: Id(1)] long Keys,
    [property: Id(2)] long Evicted,
    [property: Id(3)] long MaxKeys);
