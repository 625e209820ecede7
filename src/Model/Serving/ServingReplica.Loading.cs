using System.Runtime.CompilerServices;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Training;

namespace Freshet.Model.Serving;

/// <summary>Weights loaded from the store: a checkpoint and its retained deltas (served, or the good copy), a delta read and applied, and the swap under the write lock.</summary>
public sealed partial class ServingReplica
{
    /// <summary>
    /// Loads checkpoint <paramref name="version"/> and the deltas retained beside it (in order, up to the
    /// first missing one) into a new model, then switches to it. Scoring goes on against the old model
    /// until the switch. A bad checkpoint throws and leaves the replica as it was; a bad retained delta
    /// stops the load there (the checkpoint and the deltas before it are served) and is named in
    /// <see cref="LastError"/>.
    /// </summary>
    public async Task LoadAsync(ICheckpointStore store, long version, CancellationToken cancellationToken = default)
    {
        var ceiling = Halt is { } halt && halt.Checkpoint == version ? halt.Delta : long.MaxValue;
        var (fresh, loaded, weights, error) = await BuildAsync(store, version, ceiling, cancellationToken);
        Install(fresh, () =>
        {
            // The good weights served after a rollback stay, as the good copy.
            var replaced = ReferenceEquals(_current, _good) ? null : _current;
            _current = fresh;
            Weights = loaded;
            WeightsUtc = weights;
            TargetCheckpoint ??= version;
            LastError = error;
            return replaced;
        });
    }

    /// <summary>
    /// Puts freshly built weights in place under the write lock (<paramref name="install"/> returns the store they replace,
    /// null when it stays as the other copy) and disposes what was replaced. If the replica was disposed meanwhile (the silo
    /// stopped while a load ran off the grain's turn), the fresh store is the one not needed.
    /// </summary>
    private void Install(InProcessParameterStore fresh, Func<InProcessParameterStore?> install)
    {
        InProcessParameterStore? old;
        _lock.EnterWriteLock();
        try
        {
            old = _disposed ? fresh : install();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        old?.Dispose();
    }

    /// <summary>
    /// Brings the copy of the last good weights to <paramref name="good"/>: the deltas after the copy's version applied
    /// from the store on the same checkpoint, else checkpoint and deltas loaded anew. Scoring goes on meanwhile; a delta
    /// the store does not have (or that fails its check) throws <see cref="CheckpointException"/> and leaves the copy as it was.
    /// </summary>
    public async Task LoadGoodAsync(ICheckpointStore store, WeightsVersion good, CancellationToken cancellationToken = default)
    {
        if (GoodWeights == good) return;
        if (_good is { } copy && !ReferenceEquals(copy, _current) && GoodWeights is { } at && at.Checkpoint == good.Checkpoint && at < good)
        {
            var deltas = new List<WeightDelta>();
            for (var s = at.Delta + 1; s <= good.Delta; s++)
            {
                deltas.Add(await ReadDeltaAsync(store, Model, good.Checkpoint, CheckpointFiles.Delta(s), cancellationToken));
            }
            _lock.EnterWriteLock();
            try
            {
                if (_disposed || !ReferenceEquals(copy, _good)) return;
                foreach (var d in deltas) ApplyTo(copy, d);
                GoodWeights = good;
                _goodUtc = deltas[^1].SnapshotUtc;
            }
            finally
            {
                _lock.ExitWriteLock();
            }
            return;
        }
        var (fresh, loaded, weights, error) = await BuildAsync(store, good.Checkpoint, good.Delta, cancellationToken);
        if (loaded != good)
        {
            fresh.Dispose();
            throw new CheckpointException($"the good weights {Model} {good} cannot be loaded from {store.Location}: the checkpoint and its retained deltas reach {loaded} ({error ?? "a delta is missing"})");
        }
        Install(fresh, () =>
        {
            var replaced = ReferenceEquals(_good, _current) ? null : _good;
            _good = fresh;
            GoodWeights = good;
            _goodUtc = weights;
            return replaced;
        });
    }

    /// <summary>
    /// Reads a retained delta and checks it (length and SHA-256 in its trailer); a missing or bad file is a
    /// <see cref="CheckpointException"/> naming it.
    /// </summary>
    public static async Task<WeightDelta> ReadDeltaAsync(ICheckpointStore store, string model, long version, string name, CancellationToken cancellationToken)
    {
        var where = $"retained delta {CheckpointManifest.VersionFolder(model, version)}/{name} in {store.Location}";
        await using var s = await store.OpenReadAsync(model, version, name, cancellationToken);
        var bytes = await StreamBlocks.ReadAllAsync(s, WeightDelta.MaxBytes, where, cancellationToken);
        try
        {
            return WeightDelta.Decode(bytes, where);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(e.Message, e);
        }
    }

    private static void ApplyTo(InProcessParameterStore model, WeightDelta delta)
    {
        // Removals first: a row evicted and then created again within one period is in both, and stays.
        foreach (var r in delta.Removed)
        {
            if (model.Tables.FirstOrDefault(x => x.Name == r.Table) is { } table) table.Delete(r.Ids);
            else model.Rates.FirstOrDefault(x => x.Name == r.Table)?.Delete(r.Ids);
        }
        foreach (var t in delta.Tables)
        {
            var table = model.Tables.FirstOrDefault(x => x.Name == t.Table)
                ?? throw new InvalidDataException($"delta {delta.Version} names table '{t.Table}', which model '{delta.Model}' does not have");
            table.Import(t, null, replace: false);
        }
        foreach (var r in delta.Rates)
        {
            model.Rates.FirstOrDefault(x => x.Name == r.Table)?.Merge(r);
        }
        foreach (var d in delta.Dense)
        {
            var tower = model.ComputeModel.TowerOf(d.Task);
            TowerCodec.WriteParameters(tower, d.Parameters);
            TowerCodec.WriteBuffers(tower, d.Buffers);
        }
    }
}
