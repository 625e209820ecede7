using Freshet.Admin;
using Freshet.Checkpoints;

namespace Freshet.Parameters;

/// <summary>
/// One per model and shard (key: <c>{model}/{shard}</c>): the rows of every table whose id hashes
/// to this shard. The sparse optimizer runs here. Changing-tier rows persist in grain state; the
/// frozen tier comes from the model's latest full checkpoint.
/// </summary>
[Alias("Freshet.Parameters.IEmbeddingShardGrain")]
public interface IEmbeddingShardGrain : IGrainWithStringKey
{
    [Alias("Configure")] Task ConfigureAsync(ShardConfig config);

    [Alias("Pull")] Task<RowPullResult> PullAsync(RowPull request);

    [Alias("Push")] Task<RowPushResult> PushAsync(RowPush request);

    /// <summary>Locks (or unlocks) the frozen tier against a job's pushes; dropped updates are counted.</summary>
    [Alias("SetFrozenLock")] Task SetFrozenLockAsync(string job, bool locked);

    /// <summary>Rows of a tier (<c>frozen</c> or <c>changing</c>) created or updated since the previous take.</summary>
    [Alias("TakeChangedRows")] Task<ChangedRows> TakeChangedRowsAsync(string tier);

    /// <summary>
    /// The shard's part of the next delta: changing-tier rows and rate counts changed since the last
    /// take, and frozen-tier rows new since the base checkpoint that changed, at most <paramref name="freshBudget"/>.
    /// </summary>
    [Alias("TakeDelta")] Task<ShardDelta> TakeDeltaAsync(int freshBudget);

    /// <summary>
    /// Writes this shard's files into checkpoint <paramref name="version"/>. <paramref name="rebase"/>: serving is told to
    /// switch to it, so the next deltas build on it (the change sets start afresh); otherwise they are kept for the next
    /// delta on the checkpoint serving follows.
    /// </summary>
    [Alias("WriteCheckpoint")] Task<IReadOnlyList<CheckpointFile>> WriteCheckpointAsync(long version, bool rebase);

    /// <summary>Replaces every row (all tiers) with this shard's part of checkpoint <paramref name="version"/>.</summary>
    [Alias("LoadCheckpoint")] Task LoadCheckpointAsync(long version, string? fromModel = null);

    /// <summary>Writes the changing tier to grain state now.</summary>
    [Alias("Persist")] Task PersistAsync();

    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<ShardStatus> GetStatusAsync();
}
