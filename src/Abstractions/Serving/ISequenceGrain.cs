using Freshet.Admin;

namespace Freshet.Serving;

/// <summary>
/// Live sequence fields: one grain per model, sequence field and shard of the keys (<see cref="SequenceShards"/>), keyed
/// <c>{model}/{field}/{shard}</c>. Joiners record what the feedback loop reports (impressions as they are logged, clicks as
/// they are reported); serving reads a row's sequence before scoring it, and the row is logged with that sequence, so the
/// joiner trains on what serving used. Silo code only, but for its status (a read, as a shard's is).
/// </summary>
[Alias("Freshet.Serving.ISequenceGrain")]
public interface ISequenceGrain : IGrainWithStringKey
{
    /// <summary>For each key, its last values strictly before the time at the same index (oldest first), with their ages at it.</summary>
    [Alias("Read")] Task<SequenceRead> ReadAsync(SequenceBounds bounds, ulong[] keys, long[] times);

    /// <summary>Records values for keys, each at its time, reported at <paramref name="now"/>.</summary>
    [Alias("Record")] Task RecordAsync(SequenceBounds bounds, SequenceRecord[] records, long now);

    /// <summary>What the shard holds: keys, keys evicted past its cap, and the cap.</summary>
    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<SequenceShardStatus> GetStatusAsync();
}

/// <summary>One sequence shard's state: keys held, keys evicted past its cap (since it activated) and its cap (0 before its first call gave it bounds).</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-shard-status")]
public sealed record SequenceShardStatus(
    [property: Id(0)] int Keys,
    [property: Id(1)] long Evicted,
    [property: Id(2)] long MaxKeys);

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
