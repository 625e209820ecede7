using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Model.Sequences;

/// <summary>
/// Fills the sequence fields of samples replayed in event-time order (<see cref="FieldKind.Sequence"/>): each sample's
/// sequence is the last <c>maxLength</c> values its key recorded strictly before the sample's time, oldest first, so no
/// sample sees its own event or a later one. Call <see cref="Fill"/> then <see cref="Record"/> for each sample in turn.
/// Bounded: at most <c>maxLength</c> events per key (plus as many not yet due, such as conversions whose time is
/// later), events older than <c>expireAfter</c> dropped, and at most <c>maxRows</c> keys, the least recently seen
/// evicted first.
/// </summary>
public sealed class SequenceTracker
{
    /// <summary>The most keys one sequence keeps when the schema gives no <c>maxRows</c>.</summary>
    public const long DefaultMaxKeys = 1_000_000;

    private readonly Sequence[] _sequences;

    public SequenceTracker(FeatureSchema schema, FeatureLayout layout)
    {
        var idNames = layout.IdFields.Select(f => f.Field.Name).ToList();
        var firstTask = schema.HasClicks ? TaskKind.Ctr : TaskKind.Cvr;
        _sequences = [.. layout.BagFields
            .Select((slot, bag) => (slot.Field, Bag: bag))
            .Where(x => x.Field.Kind == FieldKind.Sequence)
            .Select(x => new Sequence(
                x.Bag,
                idNames.IndexOf(x.Field.Of!),
                idNames.IndexOf(x.Field.From!),
                (x.Field.Event ?? "click") switch { "impression" => SequenceEvent.Impression, "conversion" => SequenceEvent.Conversion, _ => SequenceEvent.Click },
                firstTask,
                x.Field.MaxLength ?? FeatureLayout.DefaultSequenceLength,
                x.Field.ExpireAfter is { } e ? Durations.Parse(e, $"field '{x.Field.Name}' expireAfter").Ticks : long.MaxValue,
                x.Field.MaxRows ?? DefaultMaxKeys))];
    }

    /// <summary>Whether the layout has any sequence to fill.</summary>
    public bool Any => _sequences.Length > 0;

    /// <summary>Keys kept, over every sequence.</summary>
    public long Keys => _sequences.Sum(s => (long)s.Keys);

    /// <summary>Keys evicted past a cap, over every sequence.</summary>
    public long Evicted => _sequences.Sum(s => s.Evicted);

    private ulong[][]? _lastFilled;

    /// <summary>
    /// Sets each sequence bag of <paramref name="sample"/> to its key's events strictly before the sample's time. The sample
    /// must own its <see cref="Sample.Bags"/> array: filled through an array another sample shares (a clicked impression's
    /// CTR and CVR samples), the first sample's sequence would change after its own label was recorded, and say it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The sample shares its bags with the sample filled before it.</exception>
    public void Fill(Sample sample)
    {
        if (_sequences.Length == 0) return;
        if (ReferenceEquals(sample.Bags, _lastFilled)) throw new InvalidOperationException("two samples share one bags array: a sequence filled into it would rewrite the first sample's after its label was recorded");
        _lastFilled = sample.Bags;
        foreach (var s in _sequences) sample.Bags[s.Bag] = s.Before(sample.Ids[s.Key], sample.Time);
    }

    /// <summary>
    /// Records what <paramref name="sample"/> says happened, at the times the running counts take them (<see cref="LabelEvents"/>):
    /// an impression with its trial, a click or a conversion with its positive (a conversion at its own time).
    /// </summary>
    public void Record(Sample sample)
    {
        var (count, first, second) = LabelEvents.Of(sample);
        if (count > 0) RecordEvent(sample, first);
        if (count > 1) RecordEvent(sample, second);
    }

    private void RecordEvent(Sample sample, CountEvent e)
    {
        foreach (var s in _sequences)
        {
            var recorded = s.Event switch
            {
                SequenceEvent.Impression => e.Samples > 0 && sample.Task == s.FirstTask,
                SequenceEvent.Click => e.Positives > 0 && sample.Task == TaskKind.Ctr,
                _ => e.Positives > 0 && sample.Task == TaskKind.Cvr,
            };
            if (recorded) s.Add(sample.Ids[s.Key], sample.Ids[s.Item], e.Time, sample.Time);
        }
    }

    private enum SequenceEvent
    {
        Click,
        Impression,
        Conversion,
    }

    private sealed class Sequence(int bag, int key, int item, SequenceEvent @event, TaskKind firstTask, int length, long expire, long maxKeys)
    {
        private readonly Dictionary<ulong, List<(ulong Item, long Time)>> _events = [];
        private readonly Dictionary<ulong, long> _lastSeen = [];
        private readonly PriorityQueue<ulong, long> _byLastSeen = new();

        public int Bag { get; } = bag;
        public int Key { get; } = key;
        public int Item { get; } = item;
        public SequenceEvent Event { get; } = @event;
        public TaskKind FirstTask { get; } = firstTask;
        public int Keys => _events.Count;
        public long Evicted { get; private set; }

        public ulong[] Before(ulong key, long time)
        {
            if (!_events.TryGetValue(key, out var list)) return [];
            Touch(key, time);
            var cutoff = expire == long.MaxValue ? long.MinValue : time - expire;
            list.RemoveAll(e => e.Time < cutoff);
            var end = list.Count;
            while (end > 0 && list[end - 1].Time >= time) end--;
            var start = Math.Max(0, end - length);
            var result = new ulong[end - start];
            for (var i = start; i < end; i++) result[i - start] = list[i].Item;
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
}
