using System.Buffers;
namespace Freshet.Model.Metrics;

/// <summary>
/// The counting model every result is compared with: each key's (item's, app's) empirical rate so far, smoothed towards
/// the global rate so far with a prior of <c>strength</c> pseudo-samples. Bounded as the key's embedding table is: a key
/// not seen for <paramref name="expireAfter"/> (event time) is forgotten at the next <see cref="Expire"/>, and past
/// <paramref name="maxKeys"/> the least recently seen tenth are forgotten, so a trainer fed without end keeps as many
/// keys as its tables do (a forgotten key scores the global rate again, as a new one does).
/// </summary>
public sealed class PopularityBaseline(double strength = 10, long? maxKeys = null, TimeSpan? expireAfter = null)
{
    private readonly Dictionary<ulong, Counts> _byKey = [];
    private double _positives;
    private double _count;

    public int Keys => _byKey.Count;

    /// <summary>Keys forgotten so far (expired or past the cap).</summary>
    public long Evicted { get; private set; }

    public float Score(ulong key)
    {
        var global = (_positives + 0.5) / (_count + 1);
        var c = _byKey.GetValueOrDefault(key);
        return (float)((c.Positives + strength * global) / (c.Samples + strength));
    }

    /// <summary>Counts a sample of <paramref name="key"/> seen at <paramref name="time"/> (UTC ticks).</summary>
    public void Update(ulong key, float label, long time = 0) => Update(key, label, 1, time);

    /// <summary>Counts <paramref name="positives"/> and <paramref name="samples"/> of <paramref name="key"/> at <paramref name="time"/> (a trial, or a positive alone when its label came later).</summary>
    public void Update(ulong key, float positives, float samples, long time)
    {
        if (!_byKey.TryGetValue(key, out var c) && maxKeys is { } cap && _byKey.Count >= cap) EvictLeastRecentlySeen((int)Math.Max(1, cap / 10));
        _byKey[key] = new Counts(c.Positives + positives, c.Samples + samples, Math.Max(c.LastSeen, time));
        _positives += positives;
        _count += samples;
    }

    /// <summary>Forgets the keys not seen since <paramref name="now"/> less the expiry; returns how many.</summary>
    public int Expire(long now)
    {
        if (expireAfter is not { } after) return 0;
        var cutoff = now - after.Ticks;
        var victims = new List<ulong>();
        foreach (var (key, c) in _byKey)
        {
            if (c.LastSeen < cutoff) victims.Add(key);
        }
        foreach (var key in victims) _byKey.Remove(key);
        Evicted += victims.Count;
        return victims.Count;
    }

    /// <summary>Forgets the <paramref name="count"/> keys seen least recently, sorting in pooled buffers (no large garbage per eviction).</summary>
    private void EvictLeastRecentlySeen(int count)
    {
        var n = _byKey.Count;
        var keys = ArrayPool<ulong>.Shared.Rent(n);
        var seen = ArrayPool<long>.Shared.Rent(n);
        try
        {
            var i = 0;
            foreach (var (key, c) in _byKey)
            {
                keys[i] = key;
                seen[i++] = c.LastSeen;
            }
            seen.AsSpan(0, n).Sort(keys.AsSpan(0, n));
            for (var k = 0; k < Math.Min(count, n); k++) _byKey.Remove(keys[k]);
            Evicted += Math.Min(count, n);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<long>.Shared.Return(seen);
        }
    }

    private readonly record struct Counts(double Positives, double Samples, long LastSeen);
}
