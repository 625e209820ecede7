namespace Freshet.Serving;

/// <summary>
/// Live sequence fields: one grain per model, sequence field and shard of the keys (<see cref="SequenceShards"/>), keyed
/// <c>{model}/{field}/{shard}</c>. Joiners record what the feedback loop reports (impressions as they are logged, clicks as
/// they are reported); serving reads a row's sequence before scoring it, and the row is logged with that sequence, so the
/// joiner trains on what serving used. Silo code only: no client door reaches it.
/// </summary>
[Alias("Freshet.Serving.ISequenceGrain")]
public interface ISequenceGrain : IGrainWithStringKey
{
    /// <summary>For each key, its last values strictly before the time at the same index (oldest first), with their ages at it.</summary>
    [Alias("Read")] Task<SequenceRead> ReadAsync(SequenceBounds bounds, ulong[] keys, long[] times);

    /// <summary>Records values for keys, each at its time, reported at <paramref name="now"/>.</summary>
    [Alias("Record")] Task RecordAsync(SequenceBounds bounds, SequenceRecord[] records, long now);
}

/// <summary>A sequence field's bounds (its schema's <c>maxLength</c>, <c>expireAfter</c> and <c>maxRows</c>; keys spread over the shards).</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-bounds")]
public sealed record SequenceBounds(
    [property: Id(0)] int Length,
    [property: Id(1)] long ExpireTicks,
    [property: Id(2)] long MaxKeys);

/// <summary>What a read found: per key, its values (oldest first) and each value's age in seconds at the key's time.</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-read")]
public sealed record SequenceRead(
    [property: Id(0)] ulong[][] Values,
    [property: Id(1)] float[][] Ages);

/// <summary>One value a key recorded, at an event time.</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-record")]
public readonly record struct SequenceRecord(
    [property: Id(0)] ulong Key,
    [property: Id(1)] ulong Value,
    [property: Id(2)] long Time);

/// <summary>How a sequence field's keys spread over its grains.</summary>
public static class SequenceShards
{
    /// <summary>Grains per model and sequence field.</summary>
    public const int Count = 8;

    /// <summary>The shard that keeps <paramref name="key"/> (a hashed id).</summary>
    public static int Of(ulong key) => (int)(key % Count);

    /// <summary>Most keys (or records) one call carries: a scoring call's rows, a joiner's batch.</summary>
    public const int MaxPerCall = 10_000;

    /// <summary>The grain key of one shard.</summary>
    public static string Key(string model, string field, int shard) => $"{model}/{field}/{shard}";
}
