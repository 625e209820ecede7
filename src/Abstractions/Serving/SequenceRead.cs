namespace Freshet.Serving;

/// <summary>What a read found: per key, its values (oldest first) and each value's age in seconds at the key's time.</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-read")]
public sealed record SequenceRead(
    [property: Id(0)] ulong[][] Values,
    [property: Id(1)] float[][] Ages);
