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
