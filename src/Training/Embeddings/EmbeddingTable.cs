using System.Buffers;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>
/// A collisionless embedding table: a hash map from a 64-bit id to a row of a slab. A row is created
/// the first time its id is trained on (after the admission filter, if any), initialised from a
/// seed derived from the table and the id (so every store creates the same row), and evicted when it
/// expires or when the table is over its row cap (least recently seen first).
/// </summary>
public sealed partial class EmbeddingTable
{
    private const int InitialCapacity = 1024;
    private Dictionary<ulong, int> _slots = [];
    private readonly Stack<int> _free = new();
    private readonly ulong _salt;
    private readonly float _initScale;
    private readonly AdmissionFilter? _admission;
    private readonly HashSet<ulong> _changed = [];
    private readonly HashSet<ulong> _created = [];
    private readonly HashSet<ulong> _removed = [];
    private ulong[] _keys = new ulong[InitialCapacity];
    private float[] _weights;
    private float[] _state;
    private long[] _lastSeen = new long[InitialCapacity];
    private int[] _steps = new int[InitialCapacity];
    private int _highWater;

    public EmbeddingTable(TableSpec spec, ModelSpec model)
    {
        Spec = spec;
        Dim = spec.Dim;
        Optimizer = SparseOptimizer.Create(spec.Optimizer, spec.LearningRate, model);
        StateWidth = Optimizer.StatePerWeight * Dim;
        _weights = new float[InitialCapacity * Dim];
        _state = new float[InitialCapacity * StateWidth];
        _salt = IdHasher.TableSalt(spec.Name);
        _initScale = spec.InitScale ?? model.InitScale;
        if (spec.MinCount > 1)
        {
            _admission = new AdmissionFilter(spec.MinCount, spec.ExpireAfter ?? TimeSpan.FromDays(1), widthBits: AdmissionFilter.WidthBitsFor(spec.MaxRows));
        }
    }

    public TableSpec Spec { get; }

    public string Name => Spec.Name;

    public int Dim { get; }

    public Tier Tier => Spec.Tier;

    public SparseOptimizer Optimizer { get; }

    /// <summary>Optimizer state floats per row.</summary>
    public int StateWidth { get; }

    public int Count => _slots.Count;

    /// <summary>Rows removed by expiry or by the row cap since the table was made.</summary>
    public long Evicted { get; private set; }

    /// <summary>Ids seen while training that the admission filter has not admitted yet (occurrences).</summary>
    public long NotAdmitted { get; private set; }

    /// <summary>
    /// Memory per row: weights and optimizer state, last-seen time, step count, the id, and the hash
    /// map entry (key, value, next, hash code and bucket: about 24 bytes).
    /// </summary>
    public int BytesPerRow => BytesPerRowOf(Dim, StateWidth);

    /// <summary><see cref="BytesPerRow"/> of a table as the schema defines it.</summary>
    public static int BytesPerRowOf(TableSpec spec, ModelSpec model) =>
        BytesPerRowOf(spec.Dim, SparseOptimizer.Create(spec.Optimizer, spec.LearningRate, model).StatePerWeight * spec.Dim);

    private static int BytesPerRowOf(int dim, int stateWidth) => (dim + stateWidth) * sizeof(float) + sizeof(long) + sizeof(int) + sizeof(ulong) + 24;

    public bool Contains(ulong id) => _slots.ContainsKey(id);

    /// <summary>
    /// Managed memory this table holds now: its row arrays at their capacity, the id map (24 bytes an entry and 4 a bucket) and
    /// the changed, created and removed sets (16 and 4), each at its capacity.
    /// </summary>
    public long AllocatedBytes =>
        (long)_keys.Length * sizeof(ulong) + (long)_weights.Length * sizeof(float) + (long)_state.Length * sizeof(float)
        + (long)_lastSeen.Length * sizeof(long) + (long)_steps.Length * sizeof(int)
        + (long)_slots.EnsureCapacity(0) * 28
        + ((long)_changed.EnsureCapacity(0) + _created.EnsureCapacity(0) + _removed.EnsureCapacity(0)) * 20;

    /// <summary>Rows created since the last <see cref="MarkBase"/> (for the frozen tier: ids new since the base checkpoint).</summary>
    public int CreatedSinceBase => _created.Count;

    public bool CreatedSinceBaseContains(ulong id) => _created.Contains(id);

    /// <summary>Starts a new base (a full checkpoint was written or loaded): no row is new, changed or removed.</summary>
    public void MarkBase()
    {
        _created.Clear();
        _changed.Clear();
        _removed.Clear();
    }

    /// <summary>
    /// Whether rows evicted (expiry, row cap) are remembered for <see cref="TakeRemoved"/>, so deltas can remove
    /// them from serving too. On for the tables of a cluster shard, whose deltas serving follows; off in a
    /// single process, which ships no deltas (the set would only grow).
    /// </summary>
    public bool TrackRemovals { get; set; }

    /// <summary>Ids evicted since the last call that have no row now (a delta's removals), sorted; starts a new period.</summary>
    public ulong[] TakeRemoved()
    {
        var ids = _removed.Where(id => !_slots.ContainsKey(id)).ToArray();
        _removed.Clear();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>Removes the rows of <paramref name="ids"/> that exist (a delta's removals, applied by serving); returns how many.</summary>
    public int Delete(ReadOnlySpan<ulong> ids)
    {
        var n = 0;
        foreach (var id in ids)
        {
            if (_slots.ContainsKey(id))
            {
                Remove(id);
                n++;
            }
        }
        return n;
    }

    /// <summary>Returns ids to the changed set (a delta that could not take them all).</summary>
    public void ReturnChanged(IEnumerable<ulong> ids)
    {
        foreach (var id in ids)
        {
            if (_slots.ContainsKey(id)) _changed.Add(id);
        }
    }

    /// <summary>Rows created or updated since the last <see cref="TakeChanged"/>.</summary>
    public int ChangedCount => _changed.Count;

    /// <summary>The ids of rows created or updated since the last call (a snapshot's delta), sorted; starts a new period.</summary>
    public ulong[] TakeChanged()
    {
        var ids = _changed.ToArray();
        _changed.Clear();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>
    /// Copies the rows of <paramref name="ids"/> into <paramref name="destination"/> (ids.Length x Dim).
    /// With <paramref name="create"/>, missing rows are created (subject to admission: <paramref name="occurrences"/>
    /// counts each id's occurrences); otherwise, and for ids not admitted, the destination row is zeros.
    /// Rows read with <paramref name="create"/> are marked seen at <paramref name="now"/>.
    /// </summary>
    public void Pull(ReadOnlySpan<ulong> ids, ReadOnlySpan<int> occurrences, Span<float> destination, bool create, long now)
    {
        var d = Dim;
        for (var i = 0; i < ids.Length; i++)
        {
            var dest = destination.Slice(i * d, d);
            if (!_slots.TryGetValue(ids[i], out var slot))
            {
                if (!create || !Admit(ids[i], occurrences.IsEmpty ? 1 : occurrences[i], now))
                {
                    dest.Clear();
                    continue;
                }
                slot = Create(ids[i], now);
            }
            else if (create)
            {
                _lastSeen[slot] = Math.Max(_lastSeen[slot], now);
            }
            _weights.AsSpan(slot * d, d).CopyTo(dest);
        }
    }

    /// <summary>Applies one optimizer step per id with its summed gradient (ids.Length x Dim); ids without a row are skipped.</summary>
    /// <summary>Train only rows created since the last <see cref="MarkBase"/> (the frozen tier under part+fresh: part with fresh rows).</summary>
    public bool FreshOnly { get; set; }

    public void ApplyGradients(ReadOnlySpan<ulong> ids, ReadOnlySpan<float> gradients)
    {
        var d = Dim;
        var sw = StateWidth;
        for (var i = 0; i < ids.Length; i++)
        {
            if (!_slots.TryGetValue(ids[i], out var slot)) continue;
            if (FreshOnly && !_created.Contains(ids[i])) continue;
            _changed.Add(ids[i]);
            Optimizer.Update(_weights.AsSpan(slot * d, d), _state.AsSpan(slot * sw, sw), gradients.Slice(i * d, d), ref _steps[slot]);
        }
    }

    /// <summary>Copies a row's weights; false when the id has no row.</summary>
    public bool TryGetRow(ulong id, Span<float> destination)
    {
        if (!_slots.TryGetValue(id, out var slot)) return false;
        _weights.AsSpan(slot * Dim, Dim).CopyTo(destination);
        return true;
    }

    /// <summary>Removes rows not seen for the table's expiry; returns how many.</summary>
    public int Expire(long now)
    {
        if (Spec.ExpireAfter is not { } after) return 0;
        var cutoff = now - after.Ticks;
        var victims = new List<ulong>();
        foreach (var (id, slot) in _slots)
        {
            if (_lastSeen[slot] < cutoff) victims.Add(id);
        }
        foreach (var id in victims) Remove(id);
        return victims.Count;
    }

    /// <summary>Every row's id and slot, ordered by id (straight from the map, sorted together: no lookups per row).</summary>
    public (ulong[] Ids, int[] Slots) Ordered()
    {
        var n = _slots.Count;
        var ids = new ulong[n];
        var slots = new int[n];
        var i = 0;
        foreach (var (id, slot) in _slots)
        {
            ids[i] = id;
            slots[i++] = slot;
        }
        Array.Sort(ids, slots);
        return (ids, slots);
    }

    /// <summary>
    /// Every row's id and slot in slot order, the order the rows sit in memory: no sort, and a column read in this order is
    /// read front to back in runs (a checkpoint file's order; a table loaded from it keeps it).
    /// </summary>
    public (ulong[] Ids, int[] Slots) InSlotOrder()
    {
        var free = new bool[_highWater];
        foreach (var slot in _free)
        {
            if (slot < free.Length) free[slot] = true;
        }
        var n = _slots.Count;
        var ids = new ulong[n];
        var slots = new int[n];
        var i = 0;
        for (var slot = 0; slot < _highWater && i < n; slot++)
        {
            if (free[slot]) continue;
            ids[i] = _keys[slot];
            slots[i++] = slot;
        }
        if (i != n) throw new InvalidOperationException($"table '{Name}': {i} live slots below the high-water mark for {n} rows");
        return (ids, slots);
    }

    /// <summary>The weights of <paramref name="count"/> rows in slots from <paramref name="slot"/> on (valid until the table changes).</summary>
    public ReadOnlySpan<float> WeightsOf(int slot, int count) => _weights.AsSpan(slot * Dim, count * Dim);

    /// <summary>The optimizer state of <paramref name="count"/> rows in slots from <paramref name="slot"/> on.</summary>
    public ReadOnlySpan<float> StateOf(int slot, int count) => _state.AsSpan(slot * StateWidth, count * StateWidth);

    /// <summary>When <paramref name="count"/> rows in slots from <paramref name="slot"/> on were last seen (UTC ticks).</summary>
    public ReadOnlySpan<long> LastSeenOf(int slot, int count) => _lastSeen.AsSpan(slot, count);

    /// <summary>The optimizer steps of <paramref name="count"/> rows in slots from <paramref name="slot"/> on.</summary>
    public ReadOnlySpan<int> StepsOf(int slot, int count) => _steps.AsSpan(slot, count);

    /// <summary>The weights of the row in <paramref name="slot"/> (from <see cref="Ordered"/>; valid until the table changes).</summary>
    public ReadOnlySpan<float> WeightsAt(int slot) => _weights.AsSpan(slot * Dim, Dim);

    /// <summary>The optimizer state of the row in <paramref name="slot"/>.</summary>
    public ReadOnlySpan<float> StateAt(int slot) => _state.AsSpan(slot * StateWidth, StateWidth);

    /// <summary>When the row in <paramref name="slot"/> was last seen (UTC ticks).</summary>
    public long LastSeenAt(int slot) => _lastSeen[slot];

    /// <summary>The optimizer steps of the row in <paramref name="slot"/>.</summary>
    public int StepsAt(int slot) => _steps[slot];

    /// <summary>The initial weights every store gives a new row of this table and id.</summary>
    public static void InitialRow(ulong salt, ulong id, float scale, Span<float> destination)
    {
        var s = salt ^ id;
        for (var k = 0; k < destination.Length; k++)
        {
            s += 0x9E3779B97F4A7C15UL;
            var bits = IdHasher.Mix(s);
            var u = (bits >> 40) * (1.0f / (1 << 24)); // [0, 1)
            destination[k] = (2f * u - 1f) * scale;
        }
    }

    private bool Admit(ulong id, int occurrences, long now)
    {
        if (_admission is null) return true;
        if (_admission.Admit(id, occurrences, now)) return true;
        NotAdmitted += occurrences;
        return false;
    }

    private int Create(ulong id, long now)
    {
        if (Spec.MaxRows is { } cap && _slots.Count >= cap)
        {
            EvictLeastRecentlySeen((int)Math.Max(1, cap / 10));
        }
        var slot = NewSlot(id);
        _changed.Add(id);
        _created.Add(id);
        var w = _weights.AsSpan(slot * Dim, Dim);
        InitialRow(_salt, id, _initScale, w);
        Optimizer.Initialize(w, _state.AsSpan(slot * StateWidth, StateWidth));
        _lastSeen[slot] = now;
        _steps[slot] = 0;
        return slot;
    }

    private int NewSlot(ulong id)
    {
        int slot;
        if (_free.Count > 0)
        {
            slot = _free.Pop();
        }
        else
        {
            slot = _highWater++;
            if (slot >= _keys.Length) Grow();
        }
        _keys[slot] = id;
        _slots[id] = slot;
        return slot;
    }

    /// <summary>
    /// Capacity doubles up to a million rows, then grows by a quarter: a large table keeps at most 25% unused slots and never
    /// copies twice its size at once.
    /// </summary>
    private void Grow() => Resize(_keys.Length < 1 << 20 ? _keys.Length * 2 : _keys.Length + _keys.Length / 4);

    /// <summary>Room for <paramref name="rows"/> rows (slots and map) without growing.</summary>
    private void Reserve(int rows)
    {
        _slots.EnsureCapacity(rows);
        if (rows > _keys.Length) Resize(rows);
    }

    private void Resize(int capacity)
    {
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _weights, capacity * Dim);
        Array.Resize(ref _state, capacity * StateWidth);
        Array.Resize(ref _lastSeen, capacity);
        Array.Resize(ref _steps, capacity);
    }

    /// <summary>
    /// Evicts the <paramref name="count"/> rows seen least recently. The ids and times are sorted in pooled buffers: a
    /// fresh array of every row at each eviction is large-object garbage that fragments a long-running silo's heap.
    /// </summary>
    private void EvictLeastRecentlySeen(int count)
    {
        var n = _slots.Count;
        var seen = ArrayPool<long>.Shared.Rent(n);
        var ids = ArrayPool<ulong>.Shared.Rent(n);
        try
        {
            var i = 0;
            foreach (var (id, slot) in _slots)
            {
                seen[i] = _lastSeen[slot];
                ids[i++] = id;
            }
            seen.AsSpan(0, n).Sort(ids.AsSpan(0, n));
            for (i = 0; i < Math.Min(count, n); i++) Remove(ids[i]);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(seen);
            ArrayPool<ulong>.Shared.Return(ids);
        }
    }

    private void Remove(ulong id)
    {
        if (_slots.Remove(id, out var slot))
        {
            _changed.Remove(id);
            _created.Remove(id);
            if (TrackRemovals) _removed.Add(id);
            _free.Push(slot);
            Evicted++;
        }
    }
}
