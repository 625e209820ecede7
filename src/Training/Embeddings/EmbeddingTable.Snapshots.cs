using Freshet.Model.Hashing;
using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>A table's rows as snapshots: exported (all, or some ids, in slot order), imported (replacing, merging or adopting) for checkpoints, deltas and shard moves.</summary>
public sealed partial class EmbeddingTable
{
    /// <summary>Every row, ordered by id.</summary>
    public TableSnapshot Export()
    {
        var (ids, slots) = Ordered();
        return Copy(ids, slots);
    }

    /// <summary>The rows of <paramref name="ids"/> that exist, ordered by id.</summary>
    public TableSnapshot Export(ulong[] ids)
    {
        ids = [.. ids.Where(_slots.ContainsKey)];
        Array.Sort(ids);
        return Copy(ids, [.. ids.Select(id => _slots[id])]);
    }

    private TableSnapshot Copy(ulong[] ids, int[] slots)
    {
        var n = ids.Length;
        var snap = new TableSnapshot(Name, Dim, StateWidth, Optimizer.Kind, ids, new float[(long)n * Dim], new float[(long)n * StateWidth], new long[n], new int[n]);
        for (var i = 0; i < n; i++)
        {
            var slot = slots[i];
            _weights.AsSpan(slot * Dim, Dim).CopyTo(snap.Weights.AsSpan(i * Dim, Dim));
            _state.AsSpan(slot * StateWidth, StateWidth).CopyTo(snap.State.AsSpan(i * StateWidth, StateWidth));
            snap.LastSeen[i] = _lastSeen[slot];
            snap.Steps[i] = _steps[slot];
        }
        return snap;
    }

    /// <summary>Replaces every row with the snapshot's.</summary>
    public void Import(TableSnapshot snap) => Import(snap, null, replace: true);

    /// <summary>
    /// Replaces every row with the snapshot's by taking its arrays as this table's rows (row i in slot i): no copy, only the
    /// id map is built. The snapshot belongs to the table afterwards; do not use or change it. A small snapshot, one of
    /// another optimizer, or one with an id twice is imported by copy instead.
    /// </summary>
    public void Adopt(TableSnapshot snap)
    {
        var n = snap.Ids.Length;
        if (snap.Dim != Dim || snap.StateWidth != StateWidth || snap.Optimizer != Optimizer.Kind || n < InitialCapacity
            || snap.Weights.Length != (long)n * Dim || snap.State.Length != (long)n * StateWidth || snap.LastSeen.Length != n || snap.Steps.Length != n)
        {
            Import(snap);
            return;
        }
        var map = new Dictionary<ulong, int>(n);
        for (var i = 0; i < n; i++)
        {
            if (!map.TryAdd(snap.Ids[i], i))
            {
                Import(snap);
                return;
            }
        }
        _slots = map;
        _free.Clear();
        _changed.Clear();
        _created.Clear();
        _removed.Clear();
        _keys = snap.Ids;
        _weights = snap.Weights;
        _state = snap.State;
        _lastSeen = snap.LastSeen;
        _steps = snap.Steps;
        _highWater = n;
    }

    /// <summary>
    /// Loads the snapshot's rows that <paramref name="keep"/> accepts (all when null); with
    /// <paramref name="replace"/> the table is emptied first, otherwise rows are added or overwritten.
    /// </summary>
    public void Import(TableSnapshot snap, Func<ulong, bool>? keep, bool replace)
    {
        if (snap.Dim != Dim)
        {
            throw new InvalidOperationException($"table '{Name}': snapshot has dim {snap.Dim}, the table {Dim}");
        }
        if (replace)
        {
            _slots.Clear();
            _free.Clear();
            _changed.Clear();
            _created.Clear();
            _removed.Clear();
            _highWater = 0;
        }
        // Room for every row at once: no doubling copies while loading, and no slack past what the checkpoint holds.
        Reserve(_slots.Count + (keep is null ? snap.Ids.Length : snap.Ids.Count(keep)));
        var hasState = snap.StateWidth == StateWidth && snap.Optimizer == Optimizer.Kind;
        for (var i = 0; i < snap.Ids.Length; i++)
        {
            if (keep is not null && !keep(snap.Ids[i])) continue;
            var slot = _slots.TryGetValue(snap.Ids[i], out var existing) ? existing : NewSlot(snap.Ids[i]);
            snap.Weights.AsSpan(i * Dim, Dim).CopyTo(_weights.AsSpan(slot * Dim, Dim));
            if (hasState)
            {
                snap.State.AsSpan(i * StateWidth, StateWidth).CopyTo(_state.AsSpan(slot * StateWidth, StateWidth));
            }
            else
            {
                Optimizer.Initialize(_weights.AsSpan(slot * Dim, Dim), _state.AsSpan(slot * StateWidth, StateWidth));
            }
            _lastSeen[slot] = snap.LastSeen[i];
            _steps[slot] = hasState ? snap.Steps[i] : 0;
        }
    }
}
