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

    /// <summary>Sets each sequence bag of <paramref name="sample"/> to its key's events strictly before the sample's time.</summary>
    public void Fill(Sample sample)
    {
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
            if (recorded) s.Add(sample.Ids[s.Key], sample.Ids[s.Item], e.Time);
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

        public void Add(ulong key, ulong value, long time)
        {
            if (!_events.TryGetValue(key, out var list))
            {
                while (_events.Count >= maxKeys && EvictOldest()) { }
                list = [];
                _events[key] = list;
            }
            Touch(key, time);
            // Kept in time order; an event due later (a conversion's time) sits after those before it.
            var at = list.Count;
            while (at > 0 && list[at - 1].Time > time) at--;
            list.Insert(at, (value, time));
            // Past the length, only the oldest events go: those due at or before this time beyond the last `length`.
            var due = at + 1;
            if (due > length) list.RemoveRange(0, due - length);
            // Events due later are bounded too: a key keeps at most twice its length in all.
            if (list.Count > 2 * length) list.RemoveRange(0, list.Count - 2 * length);
        }

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
