namespace Freshet.Model.Sequences;

/// <summary>
/// One sequence field's events per key, bounded: at most <c>length</c> events before the latest recording time per key (plus
/// a bounded number due later, such as conversions recorded at their click), events older than the expiry dropped as keys
/// are read, and at most <c>maxKeys</c> keys, the least recently seen evicted first. Replay keeps one per field in a
/// <see cref="SequenceTracker"/>; live, each sequence grain keeps one for its keys. Not thread-safe.
/// </summary>
/// <param name="length">Events a read returns at most (the field's <c>maxLength</c>).</param>
/// <param name="expire">Ticks after which an event is dropped; <see cref="long.MaxValue"/>: never.</param>
/// <param name="maxKeys">Keys kept at most.</param>
public sealed class SequenceBuffer(int length, long expire, long maxKeys)
{
    private readonly Dictionary<ulong, List<(ulong Item, long Time)>> _events = [];
    private readonly Dictionary<ulong, long> _lastSeen = [];
    private readonly PriorityQueue<ulong, long> _byLastSeen = new();

    private const uint Magic = 0x51455346; // "FSEQ"
    private const int Version = 1;

    /// <summary>Events a key may hold at most: its length before the latest recording, as many pending, and the slack.</summary>
    private long MaxEventsPerKey => 2L * (length + PendingSlack);

    /// <summary>The buffer's keys and events as bytes (<see cref="Load"/> reads them back): a grain's persisted state.</summary>
    public byte[] Save()
    {
        using var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(_events.Count);
            foreach (var (key, list) in _events)
            {
                w.Write(key);
                w.Write(_lastSeen.GetValueOrDefault(key));
                w.Write(list.Count);
                foreach (var (value, time) in list)
                {
                    w.Write(value);
                    w.Write(time);
                }
            }
        }
        return bytes.ToArray();
    }

    /// <summary>
    /// A buffer with the bounds given, holding what <paramref name="data"/> (<see cref="Save"/>'s bytes) holds. Every count is
    /// checked against the bytes left and the bounds before anything is allocated.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a sequence buffer's, or hold more than the bounds allow.</exception>
    public static SequenceBuffer Load(byte[] data, int length, long expire, long maxKeys)
    {
        var buffer = new SequenceBuffer(length, expire, maxKeys);
        try
        {
            using var r = new BinaryReader(new MemoryStream(data, writable: false));
            if (r.ReadUInt32() != Magic || r.ReadInt32() != Version) throw new InvalidDataException("sequence state: not a sequence buffer of version 1");
            var keys = r.ReadInt32();
            long Left() => data.Length - r.BaseStream.Position;
            if (keys < 0 || keys > maxKeys || keys > Left() / 20) throw new InvalidDataException($"sequence state: {keys} keys in {Left()} bytes (at most {maxKeys})");
            for (var k = 0; k < keys; k++)
            {
                var key = r.ReadUInt64();
                var seen = r.ReadInt64();
                var n = r.ReadInt32();
                if (n < 0 || n > buffer.MaxEventsPerKey || n > Left() / 16) throw new InvalidDataException($"sequence state: key {key} has {n} events in {Left()} bytes (at most {buffer.MaxEventsPerKey})");
                var list = new List<(ulong Item, long Time)>(n);
                for (var i = 0; i < n; i++)
                {
                    var (value, time) = (r.ReadUInt64(), r.ReadInt64());
                    if (i > 0 && time < list[i - 1].Time) throw new InvalidDataException($"sequence state: key {key}'s events are out of time order");
                    list.Add((value, time));
                }
                if (!buffer._events.TryAdd(key, list)) throw new InvalidDataException($"sequence state: key {key} appears twice");
                buffer._lastSeen[key] = seen;
                buffer._byLastSeen.Enqueue(key, seen);
            }
            if (Left() != 0) throw new InvalidDataException($"sequence state: {Left()} bytes after the last key");
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("sequence state: cut short");
        }
        return buffer;
    }

    /// <summary>Keys kept.</summary>
    public int Keys => _events.Count;

    /// <summary>Keys evicted past the cap.</summary>
    public long Evicted { get; private set; }

    /// <summary>The last <c>length</c> values <paramref name="key"/> recorded strictly before <paramref name="time"/>, oldest first.</summary>
    public ulong[] Before(ulong key, long time) => Before(key, time, out _);

    /// <summary>
    /// As <see cref="Before(ulong, long)"/>, with each value's age at <paramref name="time"/> in seconds in
    /// <paramref name="ages"/>, aligned with the values.
    /// </summary>
    public ulong[] Before(ulong key, long time, out float[] ages)
    {
        ages = [];
        if (!_events.TryGetValue(key, out var list)) return [];
        Touch(key, time);
        var cutoff = expire == long.MaxValue ? long.MinValue : time - expire;
        list.RemoveAll(e => e.Time < cutoff);
        var end = list.Count;
        while (end > 0 && list[end - 1].Time >= time) end--;
        var start = Math.Max(0, end - length);
        var result = new ulong[end - start];
        ages = new float[end - start];
        for (var i = start; i < end; i++)
        {
            result[i - start] = list[i].Item;
            ages[i - start] = (float)((double)(time - list[i].Time) / TimeSpan.TicksPerSecond);
        }
        return result;
    }

    /// <summary>Records <paramref name="value"/> at <paramref name="time"/>, by a sample at <paramref name="now"/> (no later than it; a conversion recorded at its click is due later).</summary>
    public void Add(ulong key, ulong value, long time, long now)
    {
        if (!_events.TryGetValue(key, out var list))
        {
            while (_events.Count >= maxKeys && EvictOldest()) { }
            list = [];
            _events[key] = list;
        }
        Touch(key, now);
        // Kept in time order; an event due later (a conversion's time) sits after those before it.
        var at = list.Count;
        while (at > 0 && list[at - 1].Time > time) at--;
        list.Insert(at, (value, time));
        // Samples come in time order, so every one still to come is at `now` or later and sees the last `length` events
        // before its time: the events before `now` beyond the last `length` go (a sample at `now` itself, the same
        // impression's other sample, still sees `length`).
        var past = 0;
        while (past < list.Count && list[past].Time < now) past++;
        if (past > length) list.RemoveRange(0, past - length);
        // Events due later (conversions still to come) are bounded apart from the past: past the cap the one due last
        // goes, so the past a sample sees is never cut by a key's many pending conversions; and many at one time (a
        // slate's impressions) are bounded too.
        if (list.Count - Math.Min(past, length) > length + PendingSlack) list.RemoveAt(list.Count - 1);
    }

    /// <summary>Events pending beyond a key's length before the one due last is dropped.</summary>
    private const int PendingSlack = 32;

    private void Touch(ulong key, long time)
    {
        if (_lastSeen.TryGetValue(key, out var seen) && seen >= time) return;
        _lastSeen[key] = time;
        _byLastSeen.Enqueue(key, time);
        // The queue holds stale entries for keys seen again; rebuilt when it outgrows the keys fourfold.
        if (_byLastSeen.Count > 4 * Math.Max(1024, _lastSeen.Count)) Rebuild();
    }

    private bool EvictOldest()
    {
        while (_byLastSeen.TryDequeue(out var key, out var seen))
        {
            if (_lastSeen.TryGetValue(key, out var last) && last == seen)
            {
                _lastSeen.Remove(key);
                _events.Remove(key);
                Evicted++;
                return true;
            }
        }
        return false;
    }

    private void Rebuild()
    {
        _byLastSeen.Clear();
        foreach (var (key, seen) in _lastSeen) _byLastSeen.Enqueue(key, seen);
    }
}
