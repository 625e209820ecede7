using System.Runtime.InteropServices;
using Freshet.Model.Data;

namespace Freshet.Model.Metrics;

/// <summary>
/// Progressive-validation record of one task: each sample's score (taken before the sample was trained on), label, the
/// baselines' scores, the true probability where known, event time and group. Reports AUC, log-loss and group AUC overall
/// and per event-time window; the window listener given hears each closed window's AUC (the trainer meters it).
/// <para>
/// <see cref="EvaluationDetail.Bounded"/> (the default, and the service's) keeps aggregates whose size does not grow with
/// the samples: log-odds histograms for AUC (<see cref="LogitHistogram"/>), sums for log-loss, at most
/// <see cref="MaxOpenWindows"/> open windows (a window closes once the stream is a tenth of a window past its end; a sample
/// for a closed window counts overall only, as <see cref="LateSamples"/>) and the latest <see cref="MaxWindows"/> closed ones
/// as their figures, group AUC over a bounded set of open groups (<see cref="RunningGroupAuc"/>), and the latest
/// <see cref="RecentKept"/> scores for <see cref="RecentAuc"/>. <see cref="EvaluationDetail.PerSample"/> keeps every
/// sample for exact figures at the end of a bounded run.
/// </para>
/// </summary>
public sealed class TaskEvaluation
{
    /// <summary>Closed windows kept, the latest (a month of hourly windows).</summary>
    public const int MaxWindows = 720;

    /// <summary>Windows open at once, at most: past it, the oldest closes.</summary>
    public const int MaxOpenWindows = 4;

    /// <summary>The latest scores kept for <see cref="RecentAuc"/> in bounded mode.</summary>
    public const int RecentKept = 20_000;

    private readonly Action<double>? _windowClosed;
    private readonly PerSample? _all;
    private readonly Aggregates? _sums;

    public TaskEvaluation(TaskKind task, TimeSpan window, IReadOnlyList<string>? baselineNames = null, Action<double>? windowClosed = null, EvaluationDetail detail = EvaluationDetail.Bounded)
    {
        Task = task;
        Window = window;
        BaselineNames = baselineNames ?? [];
        Detail = detail;
        _windowClosed = windowClosed;
        if (detail == EvaluationDetail.PerSample) _all = new PerSample(this);
        else _sums = new Aggregates(this);
    }

    public TaskKind Task { get; }

    public TimeSpan Window { get; }

    public EvaluationDetail Detail { get; }

    /// <summary>Samples evaluated.</summary>
    public long Count => _all?.Count ?? _sums!.Count;

    /// <summary>Samples held one by one: every one in <see cref="EvaluationDetail.PerSample"/>; in bounded mode, the recent scores and the open groups' samples (bounded).</summary>
    public long HeldSamples => _all?.Count ?? _sums!.Held;

    /// <summary>Samples (bounded mode) that came for a window already closed: counted overall, not in a window.</summary>
    public long LateSamples => _sums?.Late ?? 0;

    /// <summary>Names of the further counting baselines scored with each sample (<see cref="Add(float, float, float, float, long, ulong?, ReadOnlySpan{float})"/>).</summary>
    public IReadOnlyList<string> BaselineNames { get; }

    /// <summary>Adds a sample with the scores of the further baselines, in <see cref="BaselineNames"/> order.</summary>
    public void Add(float score, float label, float baseline, float oracle, long time, ulong? group, ReadOnlySpan<float> baselines)
    {
        if (_all is not null) _all.Add(score, label, baseline, oracle, time, group, baselines);
        else _sums!.Add(score, label, baseline, oracle, time, group, baselines);
    }

    public void Add(float score, float label, float baseline, float oracle, long time, ulong? group) =>
        Add(score, label, baseline, oracle, time, group, []);

    /// <summary>AUC of the last <paramref name="last"/> samples (for progress display; at most <see cref="RecentKept"/> in bounded mode).</summary>
    public double RecentAuc(int last) => _all?.RecentAuc(last) ?? _sums!.RecentAuc(last);

    public TaskReport Report() => _all?.Report() ?? _sums!.Report();

    private long WindowKey(long time) => Window > TimeSpan.Zero ? time - time % Window.Ticks : 0;

    private static double? Nullable(double x) => double.IsNaN(x) ? null : x;

    /// <summary>Every sample, for exact figures.</summary>
    private sealed class PerSample(TaskEvaluation owner)
    {
        private readonly List<float>[] _baselines = [.. owner.BaselineNames.Select(_ => new List<float>())];
        private readonly List<float> _scores = [];
        private readonly List<float> _labels = [];
        private readonly List<float> _baseline = [];
        private readonly List<float> _oracle = [];
        private readonly List<long> _times = [];
        private readonly List<ulong> _groups = [];
        private bool _hasOracle = true;
        private bool _hasGroups = true;
        private bool _hasBaselines = true;
        private long _windowKey = long.MinValue;
        private int _windowStart;

        public int Count => _scores.Count;

        public void Add(float score, float label, float baseline, float oracle, long time, ulong? group, ReadOnlySpan<float> baselines)
        {
            var key = owner.WindowKey(time);
            if (key > _windowKey)
            {
                // A window closed: its AUC goes to whoever listens (the trainer's meter).
                if (_windowKey != long.MinValue && Count - _windowStart > 1)
                {
                    var auc = Auc.Compute(CollectionsMarshal.AsSpan(_scores)[_windowStart..], CollectionsMarshal.AsSpan(_labels)[_windowStart..]);
                    if (double.IsFinite(auc)) owner._windowClosed?.Invoke(auc);
                }
                _windowKey = key;
                _windowStart = Count;
            }
            if (baselines.Length < _baselines.Length) _hasBaselines = false;
            for (var i = 0; i < _baselines.Length; i++) _baselines[i].Add(i < baselines.Length ? baselines[i] : float.NaN);
            _scores.Add(score);
            _labels.Add(label);
            _baseline.Add(baseline);
            _oracle.Add(oracle);
            _times.Add(time);
            _groups.Add(group ?? 0);
            _hasOracle &= !float.IsNaN(oracle);
            _hasGroups &= group is not null;
        }

        public double RecentAuc(int last)
        {
            var start = Math.Max(0, Count - last);
            return Auc.Compute(CollectionsMarshal.AsSpan(_scores)[start..], CollectionsMarshal.AsSpan(_labels)[start..]);
        }

        public TaskReport Report()
        {
            var scores = CollectionsMarshal.AsSpan(_scores);
            var labels = CollectionsMarshal.AsSpan(_labels);
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
            Dictionary<string, double?>? further = null;
            if (owner.BaselineNames.Count > 0 && _hasBaselines)
            {
                further = new Dictionary<string, double?>(StringComparer.Ordinal);
                for (var i = 0; i < owner.BaselineNames.Count; i++) further[owner.BaselineNames[i]] = Nullable(Auc.Compute(CollectionsMarshal.AsSpan(_baselines[i]), labels));
            }
            return new TaskReport(
                owner.Task,
                Count,
                (long)positives,
                Nullable(Auc.Compute(scores, labels)),
                Nullable(LogLoss.Compute(scores, labels)),
                Nullable(Auc.Compute(CollectionsMarshal.AsSpan(_baseline), labels)),
                Nullable(LogLoss.Compute(CollectionsMarshal.AsSpan(_baseline), labels)),
                _hasOracle && Count > 0 ? Nullable(Auc.Compute(CollectionsMarshal.AsSpan(_oracle), labels)) : null,
                groupAuc,
                groups,
                Windows(),
                further);
        }

        private List<WindowReport> Windows()
        {
            var result = new List<WindowReport>();
            if (Count == 0 || owner.Window <= TimeSpan.Zero) return result;
            // Samples arrive in event-time order per task, up to batch boundaries; windows are cut on sorted times.
            var order = Enumerable.Range(0, Count).ToArray();
            var times = _times.ToArray();
            Array.Sort(times, order);
            var w = owner.Window.Ticks;
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
    }

    /// <summary>One score's figures as sums and histograms: its AUC and log-loss over whatever it has counted.</summary>
    private sealed class Scored
    {
        private readonly LogitHistogram _histogram = new();
        private double _loss;

        public void Add(float score, float label)
        {
            _histogram.Add(score, label);
            var p = Math.Clamp(score, 1e-7, 1 - 1e-7);
            _loss -= label > 0.5f ? Math.Log(p) : Math.Log(1 - p);
        }

        public double Auc => _histogram.Auc();

        public double LogLoss(long count) => count == 0 ? double.NaN : _loss / count;
    }

    /// <summary>One window while it is open.</summary>
    private sealed class OpenWindow(long start)
    {
        public long Start { get; } = start;
        public long Count { get; set; }
        public double Positives { get; set; }
        public Scored Model { get; } = new();
        public Scored Baseline { get; } = new();
        public LogitHistogram Oracle { get; } = new();

        public WindowReport Report(bool hasOracle) => new(
            new DateTime(Start, DateTimeKind.Utc), Count, (long)Positives, Nullable(Model.Auc), Nullable(Model.LogLoss(Count)), Nullable(Baseline.Auc),
            hasOracle ? Nullable(Oracle.Auc()) : null);
    }

    /// <summary>Aggregates of a fixed size, for a trainer fed without end.</summary>
    private sealed class Aggregates(TaskEvaluation owner)
    {
        private readonly Scored _model = new();
        private readonly Scored _baseline = new();
        private readonly LogitHistogram _oracle = new();
        private readonly LogitHistogram[] _further = [.. owner.BaselineNames.Select(_ => new LogitHistogram())];
        private readonly RunningGroupAuc _groups = new();
        private readonly SortedDictionary<long, OpenWindow> _open = [];
        private readonly Queue<WindowReport> _closed = new();
        private readonly float[] _recentScores = new float[RecentKept];
        private readonly float[] _recentLabels = new float[RecentKept];
        private int _recentNext;
        private int _recentCount;
        private double _positives;
        private bool _hasOracle = true;
        private bool _hasGroups = true;
        private bool _hasBaselines = true;
        private long _latest = long.MinValue;
        private long _closedThrough = long.MinValue;

        public long Count { get; private set; }

        public long Late { get; private set; }

        public long Held => _recentCount + _groups.Held;

        public void Add(float score, float label, float baseline, float oracle, long time, ulong? group, ReadOnlySpan<float> baselines)
        {
            Count++;
            _positives += label;
            _model.Add(score, label);
            _baseline.Add(baseline, label);
            _oracle.Add(oracle, label);
            _hasOracle &= !float.IsNaN(oracle);
            if (baselines.Length < _further.Length) _hasBaselines = false;
            for (var i = 0; i < _further.Length && i < baselines.Length; i++) _further[i].Add(baselines[i], label);
            if (group is { } g) _groups.Add(g, score, label);
            else _hasGroups = false;
            _recentScores[_recentNext] = score;
            _recentLabels[_recentNext] = label;
            _recentNext = (_recentNext + 1) % RecentKept;
            _recentCount = Math.Min(_recentCount + 1, RecentKept);
            if (owner.Window > TimeSpan.Zero) AddToWindow(score, label, baseline, oracle, time);
        }

        private void AddToWindow(float score, float label, float baseline, float oracle, long time)
        {
            var key = owner.WindowKey(time);
            if (key <= _closedThrough || (_latest != long.MinValue && key + Grace <= _latest - owner.Window.Ticks))
            {
                Late++;
                return;
            }
            if (!_open.TryGetValue(key, out var window)) _open[key] = window = new OpenWindow(key);
            window.Count++;
            window.Positives += label;
            window.Model.Add(score, label);
            window.Baseline.Add(baseline, label);
            window.Oracle.Add(oracle, label);
            var moved = time > _latest;
            if (moved) _latest = time;
            // The first open window is the one that can close: look only when the stream has moved past its end.
            if ((moved && _open.Count > 1) || _open.Count > MaxOpenWindows) CloseWhatIsPast();
        }

        /// <summary>How far past a window's end the stream goes before the window closes: samples come in event-time order up to a batch.</summary>
        private long Grace => owner.Window.Ticks / 10;

        /// <summary>A window closes once the stream is <see cref="Grace"/> past its end, or when too many are open (times far apart).</summary>
        private void CloseWhatIsPast()
        {
            var w = owner.Window.Ticks;
            while (_open.Count > 0)
            {
                var first = _open.First().Value;
                if (first.Start + w + Grace > _latest && _open.Count <= MaxOpenWindows) break;
                Close(first);
            }
        }

        private void Close(OpenWindow window)
        {
            _open.Remove(window.Start);
            _closedThrough = Math.Max(_closedThrough, window.Start);
            var report = window.Report(_hasOracle);
            _closed.Enqueue(report);
            while (_closed.Count > MaxWindows) _closed.Dequeue();
            if (window.Count > 1 && report.Auc is { } auc && double.IsFinite(auc)) owner._windowClosed?.Invoke(auc);
        }

        public double RecentAuc(int last)
        {
            var n = Math.Min(last, _recentCount);
            var scores = new float[n];
            var labels = new float[n];
            for (var i = 0; i < n; i++)
            {
                var at = (_recentNext - n + i + RecentKept) % RecentKept;
                scores[i] = _recentScores[at];
                labels[i] = _recentLabels[at];
            }
            return Auc.Compute(scores, labels);
        }

        public TaskReport Report()
        {
            double? groupAuc = null;
            var groups = 0;
            if (_hasGroups && Count > 0)
            {
                var (g, c) = _groups.Result();
                groupAuc = Nullable(g);
                groups = c;
            }
            Dictionary<string, double?>? further = null;
            if (owner.BaselineNames.Count > 0 && _hasBaselines)
            {
                further = new Dictionary<string, double?>(StringComparer.Ordinal);
                for (var i = 0; i < owner.BaselineNames.Count; i++) further[owner.BaselineNames[i]] = Nullable(_further[i].Auc());
            }
            List<WindowReport> windows = [.. _closed, .. _open.Values.Select(w => w.Report(_hasOracle))];
            return new TaskReport(
                owner.Task,
                Count,
                (long)_positives,
                Nullable(_model.Auc),
                Nullable(_model.LogLoss(Count)),
                Nullable(_baseline.Auc),
                Nullable(_baseline.LogLoss(Count)),
                _hasOracle && Count > 0 ? Nullable(_oracle.Auc()) : null,
                groupAuc,
                groups,
                windows,
                further);
        }
    }
}
