namespace Freshet.Model.Metrics;

/// <summary>
/// The counting model every result is compared with: each key's (item's, app's) empirical rate so
/// far, smoothed towards the global rate so far with a prior of <c>strength</c> pseudo-samples.
/// </summary>
public sealed class PopularityBaseline(double strength = 10)
{
    private readonly Dictionary<ulong, (double Positives, double Count)> _byKey = [];
    private double _positives;
    private double _count;

    public int Keys => _byKey.Count;

    public float Score(ulong key)
    {
        var global = (_positives + 0.5) / (_count + 1);
        var (p, n) = _byKey.GetValueOrDefault(key);
        return (float)((p + strength * global) / (n + strength));
    }

    public void Update(ulong key, float label)
    {
        var (p, n) = _byKey.GetValueOrDefault(key);
        _byKey[key] = (p + label, n + 1);
        _positives += label;
        _count++;
    }
}
