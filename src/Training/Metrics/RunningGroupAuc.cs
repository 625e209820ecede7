namespace Freshet.Model.Metrics;

/// <summary>
/// Group AUC (<see cref="GroupAuc"/>) over an endless stream in bounded memory: a group's samples are held while it is
/// open, and the oldest open groups are closed (their AUC added to the running mean) once more than
/// <paramref name="maxHeld"/> samples are held. A group's samples arrive together in a log of page views, so closing the
/// oldest loses nothing there; a group whose samples come back after it was closed counts again as a group of its own.
/// </summary>
public sealed class RunningGroupAuc(int maxHeld = RunningGroupAuc.DefaultMaxHeld)
{
    public const int DefaultMaxHeld = 65_536;

    private readonly Dictionary<ulong, List<(float Score, float Label)>> _open = [];
    private readonly Queue<ulong> _order = new();
    private double _sum;
    private int _counted;

    /// <summary>Samples held in open groups (at most the bound given).</summary>
    public int Held { get; private set; }

    public void Add(ulong group, float score, float label)
    {
        if (!_open.TryGetValue(group, out var members))
        {
            _open[group] = members = [];
            _order.Enqueue(group);
        }
        members.Add((score, label));
        Held++;
        while (Held > maxHeld && _order.Count > 0) Close(_order.Dequeue());
    }

    /// <summary>The mean AUC of the groups with both labels (closed ones, and the open ones as they stand), and their count.</summary>
    public (double Auc, int Groups) Result()
    {
        var sum = _sum;
        var counted = _counted;
        foreach (var members in _open.Values)
        {
            var auc = AucOf(members);
            if (double.IsNaN(auc)) continue;
            sum += auc;
            counted++;
        }
        return (counted == 0 ? double.NaN : sum / counted, counted);
    }

    private void Close(ulong group)
    {
        if (!_open.Remove(group, out var members)) return;
        Held -= members.Count;
        var auc = AucOf(members);
        if (double.IsNaN(auc)) return;
        _sum += auc;
        _counted++;
    }

    private static double AucOf(List<(float Score, float Label)> members)
    {
        var s = new float[members.Count];
        var l = new float[members.Count];
        for (var i = 0; i < members.Count; i++) (s[i], l[i]) = members[i];
        return Metrics.Auc.Compute(s, l);
    }
}
