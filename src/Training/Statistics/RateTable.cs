using System.Buffers;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;

namespace Freshet.Model.Statistics;

/// <summary>
/// Label counts per id for one rate field: positives and samples per id, and in total. Counts are events in
/// event time: a sample counts from its own time, a delayed label's positive from the time it arrived. Recent
/// events stay pending, with their times, until the trainers have scored every sample before them (the
/// watermark, <see cref="Settle"/>); a sample's input then counts exactly the events strictly before it, even
/// events trained ahead of it on the other task's stream. Bounded like an embedding table: rows expire when not
/// seen, and the least recently seen go past the cap.
/// </summary>
public sealed class RateTable(RateSlot slot)
{
    private readonly Dictionary<ulong, Counts> _rows = [];
    private readonly Dictionary<ulong, List<RateEvent>> _pending = [];
    private readonly PriorityQueue<ulong, long> _queue = new();
    private readonly HashSet<ulong> _changed = [];
    private readonly HashSet<ulong> _removed = [];
    private double _positives;
    private double _samples;
    private double _pendingPositives;
    private double _pendingSamples;

    public RateSlot Slot { get; } = slot;

    public string Name => Slot.Field.Name;

    /// <summary>Ids counted: settled or pending.</summary>
    public int Count => _rows.Count + _pending.Keys.Count(id => !_rows.ContainsKey(id));

    /// <summary>Events not settled yet.</summary>
    public int PendingEvents => _pending.Values.Sum(l => l.Count);

    public long Evicted { get; private set; }

    /// <summary>Memory per row: key, the counts, last-seen time and the hash map entry.</summary>
    public static int BytesPerRow => sizeof(ulong) + 2 * sizeof(double) + sizeof(long) + 24;

    /// <summary>The positives and samples settled in this table in all (rows evicted since included): the prior's global rate.</summary>
    public (double Positives, double Samples) Totals => (_positives, _samples);

    /// <summary>The two model inputs for an id counting every event so far, settled or pending (what serving holds).</summary>
    public void Features(ulong id, Span<float> destination)
    {
        var (p, n) = CountsOf(id);
        Features(p, n, _positives, _samples, Slot.Prior, destination);
    }

    /// <summary>An id's settled counts (zeros when it has none).</summary>
    public (double Positives, double Samples) SettledOf(ulong id)
    {
        var c = _rows.GetValueOrDefault(id);
        return (c.Positives, c.Samples);
    }

    /// <summary>
    /// What a step reads of <paramref name="ids"/>: each one's settled counts into <paramref name="settled"/>
    /// (positives, samples per id) and its events not settled yet into <paramref name="pending"/>, by position in
    /// <paramref name="ids"/>.
    /// </summary>
    public void Read(ReadOnlySpan<ulong> ids, Span<double> settled, List<(int Position, long Time, double Positives, double Samples)> pending)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            (settled[2 * i], settled[2 * i + 1]) = SettledOf(ids[i]);
            foreach (var e in PendingOf(ids[i])) pending.Add((i, e.Time, e.Positives, e.Samples));
        }
    }

    /// <summary>An id's events not settled yet (in the order added).</summary>
    public IReadOnlyList<RateEvent> PendingOf(ulong id) => _pending.TryGetValue(id, out var list) ? list : [];

    /// <summary>An id's counts with every event, settled or pending.</summary>
    public (double Positives, double Samples) CountsOf(ulong id)
    {
        var (p, n) = SettledOf(id);
        foreach (var e in PendingOf(id))
        {
            p += e.Positives;
            n += e.Samples;
        }
        return (p, n);
    }

    /// <summary>An event of a rate: <paramref name="Positives"/> and <paramref name="Samples"/> counted from <paramref name="Time"/> (UTC ticks) on.</summary>
    public readonly record struct RateEvent(long Time, double Positives, double Samples);

    /// <summary>
    /// The two model inputs for an id's counts: the log-odds of its rate smoothed toward the global rate
    /// (<paramref name="totalPositives"/> / <paramref name="totalSamples"/>, over every shard), less the global
    /// rate's (so an id with no history gives 0 and the input says how far the id is from everyone), and log(1 + samples).
    /// </summary>
    public static void Features(double positives, double samples, double totalPositives, double totalSamples, double prior, Span<float> destination)
    {
        var global = Math.Clamp((totalPositives + 0.5) / (totalSamples + 1), 1e-6, 1 - 1e-6);
        var rate = Math.Clamp((positives + prior * global) / (samples + prior), 1e-6, 1 - 1e-6);
        destination[0] = (float)(Math.Log(rate / (1 - rate)) - Math.Log(global / (1 - global)));
        destination[1] = (float)Math.Log(1 + samples);
    }

    /// <summary>
    /// One snapshot of a rate from its shards' parts (each ending with that shard's totals): every part's
    /// rows, ordered by id, then the totals of all parts summed, so the whole equals one table counting it all.
    /// </summary>
    public static TableSnapshot MergeParts(IReadOnlyList<TableSnapshot> parts)
    {
        var rows = new List<(ulong Id, float Positives, float Samples, long LastSeen)>();
        double positives = 0, samples = 0;
        long lastSeen = 0;
        foreach (var p in parts)
        {
            for (var i = 0; i < p.Ids.Length; i++)
            {
                if (i == p.Ids.Length - 1 && p.Ids[i] == TotalsId)
                {
                    positives += p.Weights[2 * i];
                    samples += p.Weights[2 * i + 1];
                    lastSeen = Math.Max(lastSeen, p.LastSeen[i]);
                    continue;
                }
                rows.Add((p.Ids[i], p.Weights[2 * i], p.Weights[2 * i + 1], p.LastSeen[i]));
            }
        }
        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        var n = rows.Count;
        var ids = new ulong[n + 1];
        var weights = new float[2 * (n + 1)];
        var seen = new long[n + 1];
        for (var i = 0; i < n; i++)
        {
            ids[i] = rows[i].Id;
            weights[2 * i] = rows[i].Positives;
            weights[2 * i + 1] = rows[i].Samples;
            seen[i] = rows[i].LastSeen;
        }
        ids[n] = TotalsId;
        weights[2 * n] = (float)positives;
        weights[2 * n + 1] = (float)samples;
        seen[n] = lastSeen;
        return new TableSnapshot(parts.Count > 0 ? parts[0].Table : "", 2, 0, SparseOptimizerKind.Adagrad, ids, weights, [], seen, new int[n + 1]);
    }

    /// <summary>Counts an event, pending until <see cref="Settle"/> passes its time.</summary>
    public void Add(ulong id, double positives, double samples, long time)
    {
        if (!_pending.TryGetValue(id, out var list))
        {
            if (!_rows.ContainsKey(id) && Slot.MaxRows is { } cap && Count >= cap)
            {
                EvictLeastRecentlySeen((int)Math.Max(1, cap / 10));
            }
            _pending[id] = list = [];
        }
        list.Add(new RateEvent(time, positives, samples));
        _queue.Enqueue(id, time);
        _changed.Add(id);
        _pendingPositives += positives;
        _pendingSamples += samples;
    }

    /// <summary>
    /// Settles every event before <paramref name="watermark"/> (UTC ticks): no sample scored from now on is
    /// older, so its input can no longer need to leave them out.
    /// </summary>
    public void Settle(long watermark)
    {
        while (_queue.TryPeek(out var id, out var time) && time < watermark)
        {
            _queue.Dequeue();
            if (!_pending.TryGetValue(id, out var list)) continue; // settled with an earlier entry of the same id
            var c = _rows.GetValueOrDefault(id);
            double p = c.Positives, n = c.Samples;
            var seen = c.LastSeen;
            var kept = 0;
            for (var i = 0; i < list.Count; i++)
            {
                var e = list[i];
                if (e.Time < watermark)
                {
                    p += e.Positives;
                    n += e.Samples;
                    seen = Math.Max(seen, e.Time);
                    _positives += e.Positives;
                    _samples += e.Samples;
                    _pendingPositives -= e.Positives;
                    _pendingSamples -= e.Samples;
                }
                else
                {
                    list[kept++] = e;
                }
            }
            list.RemoveRange(kept, list.Count - kept);
            if (list.Count == 0) _pending.Remove(id);
            _rows[id] = new Counts(p, n, seen);
        }
    }

    /// <summary>Ids whose counts changed since the last call, sorted; starts a new period.</summary>
    public ulong[] TakeChanged()
    {
        var ids = _changed.ToArray();
        _changed.Clear();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>Whether evicted rows are remembered for <see cref="TakeRemoved"/> (see <see cref="Embeddings.EmbeddingTable.TrackRemovals"/>).</summary>
    public bool TrackRemovals { get; set; }

    /// <summary>Ids evicted since the last call that have no row now, sorted; starts a new period.</summary>
    public ulong[] TakeRemoved()
    {
        var ids = _removed.Where(id => !Has(id)).ToArray();
        _removed.Clear();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>A new base: nothing changed or removed relative to it.</summary>
    public void MarkBase()
    {
        _changed.Clear();
        _removed.Clear();
    }

    /// <summary>Removes the rows of <paramref name="ids"/> (a delta's removals, applied by serving); the totals keep their counts.</summary>
    public void Delete(ReadOnlySpan<ulong> ids)
    {
        foreach (var id in ids)
        {
            _rows.Remove(id);
            DropPending(id);
        }
    }

    /// <summary>The counts of <paramref name="ids"/> that exist, every event included, with the totals last (a delta's part of this rate).</summary>
    public TableSnapshot Export(ulong[] ids) => ExportOf([.. ids.Where(Has).Order()]);

    /// <summary>Sets the counts of the snapshot's ids (and the totals, when it carries them), keeping the others; all of it settled.</summary>
    public void Merge(TableSnapshot snap)
    {
        for (var i = 0; i < snap.Ids.Length; i++)
        {
            if (i == snap.Ids.Length - 1 && snap.Ids[i] == TotalsId)
            {
                _positives = snap.Weights[2 * i];
                _samples = snap.Weights[2 * i + 1];
                _pendingPositives = 0;
                _pendingSamples = 0;
                continue;
            }
            DropPending(snap.Ids[i]);
            _rows[snap.Ids[i]] = new Counts(snap.Weights[2 * i], snap.Weights[2 * i + 1], snap.LastSeen[i]);
        }
    }

    public int Expire(long now)
    {
        if (Slot.ExpireAfter is not { } after) return 0;
        var cutoff = now - after.Ticks;
        var victims = _rows.Where(kv => kv.Value.LastSeen < cutoff && !_pending.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
        foreach (var id in victims)
        {
            _rows.Remove(id);
            _changed.Remove(id);
            if (TrackRemovals) _removed.Add(id);
        }
        Evicted += victims.Count;
        return victims.Count;
    }

    /// <summary>
    /// The counts as a two-column table (positives, samples) ordered by id, every event included (pending ones as if
    /// settled: a checkpoint or a replica holds all that was counted), with the totals last under <see cref="TotalsId"/>.
    /// </summary>
    public TableSnapshot Export()
    {
        var ids = _rows.Keys.Union(_pending.Keys).ToArray();
        Array.Sort(ids);
        return ExportOf(ids);
    }

    private bool Has(ulong id) => _rows.ContainsKey(id) || _pending.ContainsKey(id);

    private TableSnapshot ExportOf(ulong[] ids)
    {
        var n = ids.Length;
        // Row n holds the totals, under the reserved position after the sorted ids.
        var weights = new float[(n + 1) * 2];
        var lastSeen = new long[n + 1];
        var allIds = new ulong[n + 1];
        for (var i = 0; i < n; i++)
        {
            var (p, c) = CountsOf(ids[i]);
            allIds[i] = ids[i];
            weights[2 * i] = (float)p;
            weights[2 * i + 1] = (float)c;
            lastSeen[i] = PendingOf(ids[i]).Select(e => e.Time).Append(_rows.GetValueOrDefault(ids[i]).LastSeen).Max();
        }
        allIds[n] = TotalsId;
        weights[2 * n] = (float)(_positives + _pendingPositives);
        weights[2 * n + 1] = (float)(_samples + _pendingSamples);
        return new TableSnapshot(Name, 2, 0, SparseOptimizerKind.Adagrad, allIds, weights, [], lastSeen, new int[n + 1]);
    }

    public void Import(TableSnapshot snap)
    {
        _rows.Clear();
        _pending.Clear();
        _queue.Clear();
        _changed.Clear();
        _removed.Clear();
        _positives = 0;
        _samples = 0;
        _pendingPositives = 0;
        _pendingSamples = 0;
        for (var i = 0; i < snap.Ids.Length; i++)
        {
            if (i == snap.Ids.Length - 1 && snap.Ids[i] == TotalsId)
            {
                _positives = snap.Weights[2 * i];
                _samples = snap.Weights[2 * i + 1];
                continue;
            }
            _rows[snap.Ids[i]] = new Counts(snap.Weights[2 * i], snap.Weights[2 * i + 1], snap.LastSeen[i]);
        }
    }

    /// <summary>Id under which an exported table stores its totals (last, after the sorted ids).</summary>
    public const ulong TotalsId = ulong.MaxValue;

    private void DropPending(ulong id)
    {
        if (!_pending.Remove(id, out var list)) return;
        foreach (var e in list)
        {
            _pendingPositives -= e.Positives;
            _pendingSamples -= e.Samples;
        }
    }

    /// <summary>
    /// Evicts the <paramref name="count"/> settled rows seen least recently (ties in the order the rows are held). The
    /// ids and times are sorted in pooled buffers: a full table evicts every tenth of its cap, and a fresh array of
    /// every row each time is large-object garbage that fragments a long-running silo's heap.
    /// </summary>
    private void EvictLeastRecentlySeen(int count)
    {
        var order = ArrayPool<(long Seen, int Position)>.Shared.Rent(_rows.Count);
        var ids = ArrayPool<ulong>.Shared.Rent(_rows.Count);
        try
        {
            var n = 0;
            foreach (var (id, c) in _rows)
            {
                if (_pending.ContainsKey(id)) continue;
                order[n] = (c.LastSeen, n);
                ids[n++] = id;
            }
            order.AsSpan(0, n).Sort(ids.AsSpan(0, n));
            for (var i = 0; i < Math.Min(count, n); i++)
            {
                _rows.Remove(ids[i]);
                _changed.Remove(ids[i]);
                if (TrackRemovals) _removed.Add(ids[i]);
                Evicted++;
            }
        }
        finally
        {
            ArrayPool<(long, int)>.Shared.Return(order);
            ArrayPool<ulong>.Shared.Return(ids);
        }
    }

    private readonly record struct Counts(double Positives, double Samples, long LastSeen);
}
