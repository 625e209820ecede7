using Freshet.Admin;
using Freshet.Checkpoints;

namespace Freshet.Parameters;

/// <summary>
/// One per model (key: the model's name): the dense tier, both towers' weights, optimizer state and
/// batch-norm running statistics. One grain for all layers: a step changes every layer of a tower
/// at once and a snapshot must see them together, and the tier is small (well under a million
/// weights), so one call per step beats one per layer.
/// </summary>
[Alias("Freshet.Parameters.IDenseGrain")]
public interface IDenseGrain : IGrainWithStringKey
{
    [Alias("Configure")] Task ConfigureAsync(ShardConfig config);

    /// <summary>The towers whose version differs from the caller's.</summary>
    [Alias("Pull")] Task<IReadOnlyList<DenseTowerState>> PullAsync(long ctrVersion, long cvrVersion);

    /// <summary>Applies one step to a tower and returns the tower as it now is.</summary>
    [Alias("Push")] Task<DenseTowerState> PushAsync(DensePush push);

    [Alias("WriteCheckpoint")] Task<CheckpointFile> WriteCheckpointAsync(long version);

    [Alias("LoadCheckpoint")] Task LoadCheckpointAsync(long version, string? fromModel = null);

    [Alias("Persist")] Task PersistAsync();

    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<DenseStatus> GetStatusAsync();
}
