using Freshet.Model.Data;

namespace Freshet.Model.Feedback;

/// <summary>
/// Joins delayed labels to the samples they belong to, by key, on event time, and says what to train and when.
/// A sample enters unlabelled at its own time (<see cref="Add"/>); a positive label may follow within the
/// attribution window (<see cref="Positive(TKey, long, ICollection{Sample})"/>); time moves on with <see cref="Advance"/>, which closes windows.
/// <list type="bullet">
/// <item><see cref="DelayedFeedback.Wait"/>: the sample trains once, when its label arrives (1) or its window closes (0).</item>
/// <item><see cref="DelayedFeedback.Fnw"/>: the sample trains at once as a <see cref="LabelArrival.Provisional"/> negative,
/// and again as a <see cref="LabelArrival.Late"/> positive if its label arrives within the window.</item>
/// <item><see cref="DelayedFeedback.Defer"/>: the sample trains at once as an <see cref="LabelArrival.Immediate"/> negative,
/// and again as a <see cref="LabelArrival.Duplicate"/> with its real label: when the label arrives, or when the window closes.</item>
/// </list>
/// Pending samples are bounded: at <see cref="Capacity"/>, the oldest is settled early (as its window closing would)
/// and counted in <see cref="Evicted"/>. Labels for keys never added, already settled or evicted are counted in
/// <see cref="Unmatched"/>; a label later than its window in <see cref="Expired"/>. None of these is an error.
/// </summary>
public sealed class LabelJoin<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, Entry> _pending = [];
    private readonly PriorityQueue<TKey, long> _deadlines = new();
    private readonly long _window;

    public LabelJoin(DelayedFeedback method, TimeSpan window, int capacity = 1_000_000)
    {
        if (window <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(window), window, "the attribution window must be positive");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the capacity must be at least 1");
        Method = method;
        Window = window;
        Capacity = capacity;
        _window = window.Ticks;
    }

    public DelayedFeedback Method { get; }

    /// <summary>
    /// Hears each sample's final label as it settles: 1 when its label joined, 0 when its window closed (or it was
    /// evicted, or its label came too late). What was answered for it can be scored then.
    /// </summary>
    public Action<TKey, float>? Settled { get; set; }

    public TimeSpan Window { get; }

    /// <summary>The most samples waiting for a label at once.</summary>
    public int Capacity { get; }

    /// <summary>Samples waiting for a label.</summary>
    public int Pending => _pending.Count;

    /// <summary>Positive labels joined to their samples.</summary>
    public long Joined { get; private set; }

    /// <summary>Samples whose window closed without a label.</summary>
    public long Closed { get; private set; }

    /// <summary>Samples settled before their window closed because <see cref="Capacity"/> was reached.</summary>
    public long Evicted { get; private set; }

    /// <summary>Labels for keys not pending (never added, settled, evicted, or added twice).</summary>
    public long Unmatched { get; private set; }

    /// <summary>Labels that arrived after their sample's window had closed (the sample trained as a negative).</summary>
    public long Expired { get; private set; }

    /// <summary>
    /// A sample enters at its own time, without a label (its <see cref="Sample.Label"/> is ignored). What trains at once
    /// goes to <paramref name="ready"/>. A key already pending is refused (false) and counted in <see cref="Unmatched"/>.
    /// </summary>
    public bool Add(TKey key, Sample sample, ICollection<Sample> ready)
    {
        if (_pending.ContainsKey(key))
        {
            Unmatched++;
            return false;
        }
        while (_pending.Count >= Capacity && _deadlines.TryDequeue(out var oldest, out var due))
        {
            if (_pending.TryGetValue(oldest, out var entry) && entry.Deadline == due)
            {
                _pending.Remove(oldest);
                Settle(entry, ready);
                Evicted++;
                Settled?.Invoke(oldest, 0f);
            }
        }
        var deadline = sample.Time + _window;
        _pending[key] = new Entry(sample, deadline);
        _deadlines.Enqueue(key, deadline);
        if (Method == DelayedFeedback.Fnw) ready.Add(sample.Relabelled(0f, LabelArrival.Provisional, 0));
        else if (Method == DelayedFeedback.Defer) ready.Add(sample.Relabelled(0f, LabelArrival.Immediate, 0));
        return true;
    }

    /// <summary>
    /// The sample's positive label arrived at <paramref name="time"/>. Within the window it trains as the method says
    /// and true comes back; otherwise false, counted (<see cref="Expired"/> or <see cref="Unmatched"/>).
    /// </summary>
    public bool Positive(TKey key, long time, ICollection<Sample> ready) => Positive(key, time, ready, out _);

    /// <summary>
    /// As <see cref="Positive(TKey, long, ICollection{Sample})"/>, and gives back the joined sample as it entered
    /// (unlabelled) in <paramref name="sample"/> when the label joined.
    /// </summary>
    public bool Positive(TKey key, long time, ICollection<Sample> ready, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Sample? sample)
    {
        sample = null;
        if (!_pending.Remove(key, out var entry))
        {
            Unmatched++;
            return false;
        }
        if (time > entry.Deadline)
        {
            // The window closed before this label came (time had not been advanced past it yet): settled as a negative.
            Settle(entry, ready);
            Closed++;
            Expired++;
            Settled?.Invoke(key, 0f);
            return false;
        }
        var labelTime = Math.Max(time, entry.Sample.Time);
        var arrival = Method switch
        {
            DelayedFeedback.Fnw => LabelArrival.Late,
            DelayedFeedback.Defer => LabelArrival.Duplicate,
            _ => LabelArrival.Known,
        };
        ready.Add(entry.Sample.Relabelled(1f, arrival, labelTime));
        Joined++;
        sample = entry.Sample;
        Settled?.Invoke(key, 1f);
        return true;
    }

    /// <summary>Event time is now <paramref name="now"/>: every window closed by then settles.</summary>
    public void Advance(long now, ICollection<Sample> ready)
    {
        while (_deadlines.TryPeek(out var key, out var deadline) && deadline < now)
        {
            _deadlines.Dequeue();
            // A key settled by its label stays in the queue until its deadline; only a pending one with this deadline closes.
            if (_pending.TryGetValue(key, out var entry) && entry.Deadline == deadline)
            {
                _pending.Remove(key);
                Settle(entry, ready);
                Closed++;
                Settled?.Invoke(key, 0f);
            }
        }
    }

    /// <summary>What is pending (for persisting the join): each key, its unlabelled sample and when its window closes.</summary>
    public IEnumerable<(TKey Key, Sample Sample, long Deadline)> Entries => _pending.Select(kv => (kv.Key, kv.Value.Sample, kv.Value.Deadline));

    /// <summary>The counts so far, for persisting the join.</summary>
    public LabelJoinCounts Counts
    {
        get => new(Joined, Closed, Evicted, Unmatched, Expired);
        set => (Joined, Closed, Evicted, Unmatched, Expired) = (value.Joined, value.Closed, value.Evicted, value.Unmatched, value.Expired);
    }

    /// <summary>Puts back a pending sample as <see cref="Entries"/> listed it (restoring a persisted join); nothing trains.</summary>
    public void Restore(TKey key, Sample sample, long deadline)
    {
        _pending[key] = new Entry(sample, deadline);
        _deadlines.Enqueue(key, deadline);
    }

    private void Settle(Entry entry, ICollection<Sample> ready)
    {
        // Under FNW the negative trained when the sample came; under Wait it trains now; DEFER trains its real negative now too.
        if (Method == DelayedFeedback.Wait) ready.Add(entry.Sample.Relabelled(0f, LabelArrival.Known, 0));
        else if (Method == DelayedFeedback.Defer) ready.Add(entry.Sample.Relabelled(0f, LabelArrival.Duplicate, 0));
    }

    private readonly record struct Entry(Sample Sample, long Deadline);
}
