using Freshet.Model.Data;

namespace Freshet.Model.Metrics;

/// <summary>
/// The counting baselines as a shop runs them: each id field's running rate (<see cref="PopularityBaseline"/>) and the
/// global rate, counted per event in event time, with the rate fields' rules. A sample is scored on the events strictly
/// before its time; its trial counts from its time, and a positive known only later (a conversion with its time, a
/// delayed label's correction) from when it arrived. Events wait in time order until a sample passes them, so in a burst
/// of one user's events each counts for the next, and events of the same instant never see each other. What waits is
/// bounded (<see cref="MaxPending"/>): past it the oldest event counts early.
/// </summary>
public sealed class EventTimeCounters
{
    /// <summary>Events that may wait at most: conversions still to come, at a stream's rate times the longest delay.</summary>
    public const int DefaultMaxPending = 1 << 18;

    private readonly PriorityQueue<Event, (long Time, long Order)> _pending = new();
    private long _order;

    public EventTimeCounters(PopularityBaseline[] fields, PopularityBaseline global, int maxPending = DefaultMaxPending)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPending, 1);
        Fields = fields;
        Global = global;
        MaxPending = maxPending;
    }

    /// <summary>Each id field's running rate, in the layout's id-field order.</summary>
    public PopularityBaseline[] Fields { get; }

    /// <summary>The global rate so far (the counter of a schema with no id field).</summary>
    public PopularityBaseline Global { get; }

    public int MaxPending { get; }

    /// <summary>Events waiting for a sample to pass their time.</summary>
    public int Pending => _pending.Count;

    /// <summary>Counts every waiting event strictly before <paramref name="time"/> (UTC ticks).</summary>
    public void Advance(long time)
    {
        while (_pending.TryPeek(out var e, out var at) && at.Time < time)
        {
            _pending.Dequeue();
            Count(e);
        }
    }

    /// <summary>
    /// Scores a sample's ids on what is counted: each field's rate into <paramref name="scores"/>, and at
    /// <c>scores[Fields.Length]</c> their mean (the global rate when there is no id field).
    /// </summary>
    public void Score(ulong[] ids, Span<float> scores)
    {
        var fields = Fields.Length;
        float mean = 0;
        for (var f = 0; f < fields; f++)
        {
            scores[f] = Fields[f].Score(ids[f]);
            mean += scores[f];
        }
        scores[fields] = fields == 0 ? Global.Score(0) : mean / fields;
    }

    /// <summary>A trained sample's events (<see cref="LabelEvents"/>): its trial at its time, its positive when it was known.</summary>
    public void Add(Sample sample)
    {
        var (count, first, second) = LabelEvents.Of(sample);
        if (count > 0) Enqueue(sample.Ids, first.Time, first.Positives, first.Samples);
        if (count > 1) Enqueue(sample.Ids, second.Time, second.Positives, second.Samples);
    }

    private void Enqueue(ulong[] ids, long time, float positives, float samples)
    {
        if (_pending.Count >= MaxPending) Count(_pending.Dequeue());
        _pending.Enqueue(new Event(ids, time, positives, samples), (time, _order++));
    }

    private void Count(Event e)
    {
        for (var f = 0; f < Fields.Length; f++) Fields[f].Update(e.Ids[f], e.Positives, e.Samples, e.Time);
        Global.Update(0, e.Positives, e.Samples, e.Time);
    }

    private readonly record struct Event(ulong[] Ids, long Time, float Positives, float Samples);
}
