namespace Freshet.Model.Embeddings;

/// <summary>
/// The admission filter of a table with <c>minCount</c>: an id gets a row once it was seen that many times
/// within about one to two periods. Occurrences are counted in two count-min sketches, the current period's
/// and the previous one's; at each rotation the previous is dropped. A period ends on event time (the
/// table's expiry, else a day: an id not seen for that long would have expired anyway), or earlier once the
/// current sketch has taken as many additions as keep its collisions rare (an eighth of its width). So on a
/// long high-cardinality stream the counts of ids seen once are forgotten instead of piling up until every
/// id looks frequent.
/// </summary>
public sealed class AdmissionFilter
{
    private CountMinSketch _current;
    private CountMinSketch _previous;
    private long _periodStart = long.MinValue;
    private long _additions;

    public AdmissionFilter(int minCount, TimeSpan period, int depth = 4, int widthBits = 18)
    {
        if (minCount < 1) throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "at least 1");
        if (period <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(period), period, "a positive duration");
        MinCount = minCount;
        Period = period;
        _current = new CountMinSketch(depth, widthBits);
        _previous = new CountMinSketch(depth, widthBits);
        LoadLimit = _current.Width / 8;
    }

    /// <summary>
    /// Sketch width for a table of <paramref name="maxRows"/> rows: four counters a row, so a period holds about
    /// half a table's worth of candidate ids (2^12 to 2^20; 2^18 without a cap).
    /// </summary>
    public static int WidthBitsFor(long? maxRows) =>
        maxRows is { } cap ? Math.Clamp((int)Math.Ceiling(Math.Log2(Math.Max(1, cap) * 4.0)), 12, 20) : 18;

    public int MinCount { get; }

    public TimeSpan Period { get; }

    /// <summary>Additions a sketch takes before the period ends early.</summary>
    public long LoadLimit { get; }

    /// <summary>Periods ended so far.</summary>
    public long Rotations { get; private set; }

    public long Bytes => _current.Bytes + _previous.Bytes;

    /// <summary>Counts <paramref name="occurrences"/> of <paramref name="id"/> at event time <paramref name="now"/> (ticks); true once it is admitted.</summary>
    public bool Admit(ulong id, int occurrences, long now)
    {
        if (_periodStart == long.MinValue) _periodStart = now;
        if (now - _periodStart >= Period.Ticks || _additions >= LoadLimit) Rotate(now);
        _additions++;
        return _current.Add(id, occurrences) + _previous.Estimate(id) >= MinCount;
    }

    private void Rotate(long now)
    {
        (_previous, _current) = (_current, _previous);
        _current.Clear();
        // A gap of more than a period leaves nothing recent in the previous sketch either.
        if (now - _periodStart >= 2 * Period.Ticks) _previous.Clear();
        _periodStart = now;
        _additions = 0;
        Rotations++;
    }
}
