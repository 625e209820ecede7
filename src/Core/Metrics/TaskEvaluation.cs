using System.Runtime.InteropServices;
using Freshet.Model.Data;

namespace Freshet.Model.Metrics;

/// <summary>
/// Progressive-validation record of one task: every sample's score (taken before the sample was
/// trained on), label, the baseline's score, the true probability where known, event time and group.
/// Reports AUC, log-loss and group AUC overall and per event-time window; <paramref name="windowClosed"/> hears each
/// closed window's AUC (the trainer meters it).
/// </summary>
public sealed class TaskEvaluation(TaskKind task, TimeSpan window, IReadOnlyList<string>? baselineNames = null, Action<double>? windowClosed = null)
{
    private readonly List<float>[] _baselines = [.. (baselineNames ?? []).Select(_ => new List<float>())];
    private readonly List<float> _scores = [];
    private readonly List<float> _labels = [];
    private readonly List<float> _baseline = [];
    private readonly List<float> _oracle = [];
    private readonly List<long> _times = [];
    private readonly List<ulong> _groups = [];
    private bool _hasOracle = true;
    private bool _hasGroups = true;

    public TaskKind Task { get; } = task;

    public TimeSpan Window { get; } = window;

    public int Count => _scores.Count;

    private long _windowKey = long.MinValue;
    private int _windowStart;

    /// <summary>Names of the further counting baselines scored with each sample (<see cref="Add(float, float, float, float, long, ulong?, ReadOnlySpan{float})"/>).</summary>
    public IReadOnlyList<string> BaselineNames { get; } = baselineNames ?? [];

    /// <summary>Adds a sample with the scores of the further baselines, in <see cref="BaselineNames"/> order.</summary>
    public void Add(float score, float label, float baseline, float oracle, long time, ulong? group, ReadOnlySpan<float> baselines)
    {
        for (var i = 0; i < _baselines.Length; i++) _baselines[i].Add(baselines[i]);
        Add(score, label, baseline, oracle, time, group);
    }

    public void Add(float score, float label, float baseline, float oracle, long time, ulong? group)
    {
        var key = Window > TimeSpan.Zero ? time - time % Window.Ticks : 0;
        if (key > _windowKey)
        {
            // A window closed: its AUC goes to whoever listens (the trainer's meter).
            if (_windowKey != long.MinValue && Count - _windowStart > 1)
            {
                var auc = Auc.Compute(CollectionsMarshal.AsSpan(_scores)[_windowStart..], CollectionsMarshal.AsSpan(_labels)[_windowStart..]);
                if (double.IsFinite(auc)) windowClosed?.Invoke(auc);
            }
            _windowKey = key;
            _windowStart = Count;
        }
        _scores.Add(score);
        _labels.Add(label);
        _baseline.Add(baseline);
        _oracle.Add(oracle);
        _times.Add(time);
        _groups.Add(group ?? 0);
        _hasOracle &= !float.IsNaN(oracle);
        _hasGroups &= group is not null;
    }

    /// <summary>AUC of the last <paramref name="last"/> samples (for progress display).</summary>
    public double RecentAuc(int last)
    {
        var start = Math.Max(0, Count - last);
        return Auc.Compute(CollectionsMarshal.AsSpan(_scores)[start..], CollectionsMarshal.AsSpan(_labels)[start..]);
    }

    public TaskReport Report()
    {
        var scores = CollectionsMarshal.AsSpan(_scores);
        var labels = CollectionsMarshal.AsSpan(_labels);
        var baseline = CollectionsMarshal.AsSpan(_baseline);
        var oracle = CollectionsMarshal.AsSpan(_oracle);
        double positives = 0;
        foreach (var l in labels) positives += l;
        double? groupAuc = null;
        var groups = 0;
        if (_hasGroups && Count > 0)
        {
            var (g, c) = GroupAuc.Compute(scores, labels, CollectionsMarshal.AsSpan(_groups));
            groupAuc = Nullable(g);
            groups = c;
        }
        return new TaskReport(
            Task,
            Count,
            (long)positives,
            Nullable(Auc.Compute(scores, labels)),
            Nullable(LogLoss.Compute(scores, labels)),
            Nullable(Auc.Compute(baseline, labels)),
            Nullable(LogLoss.Compute(baseline, labels)),
            _hasOracle && Count > 0 ? Nullable(Auc.Compute(oracle, labels)) : null,
            groupAuc,
            groups,
            Windows(),
            BaselinesReport());
    }

    private Dictionary<string, double?>? BaselinesReport()
    {
        if (BaselineNames.Count == 0 || _baselines[0].Count != Count) return null;
        var result = new Dictionary<string, double?>(StringComparer.Ordinal);
        for (var i = 0; i < BaselineNames.Count; i++)
        {
            result[BaselineNames[i]] = Nullable(Auc.Compute(CollectionsMarshal.AsSpan(_baselines[i]), CollectionsMarshal.AsSpan(_labels)));
        }
        return result;
    }

    private List<WindowReport> Windows()
    {
        var result = new List<WindowReport>();
        if (Count == 0 || Window <= TimeSpan.Zero) return result;
        // Samples arrive in event-time order per task, up to batch boundaries; windows are cut on sorted times.
        var order = Enumerable.Range(0, Count).ToArray();
        var times = _times.ToArray();
        Array.Sort(times, order);
        var w = Window.Ticks;
        var i = 0;
        while (i < order.Length)
        {
            var start = times[i] / w * w;
            var j = i;
            while (j < order.Length && times[j] < start + w) j++;
            var s = new float[j - i];
            var l = new float[j - i];
            var b = new float[j - i];
            var o = new float[j - i];
            for (var k = i; k < j; k++)
            {
                s[k - i] = _scores[order[k]];
                l[k - i] = _labels[order[k]];
                b[k - i] = _baseline[order[k]];
                o[k - i] = _oracle[order[k]];
            }
            result.Add(new WindowReport(
                new DateTime(start, DateTimeKind.Utc),
                j - i,
                (long)l.Sum(),
                Nullable(Auc.Compute(s, l)),
                Nullable(LogLoss.Compute(s, l)),
                Nullable(Auc.Compute(b, l)),
                _hasOracle ? Nullable(Auc.Compute(o, l)) : null));
            i = j;
        }
        return result;
    }

    private static double? Nullable(double x) => double.IsNaN(x) ? null : x;
}
