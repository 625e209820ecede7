using System.Diagnostics;
using System.Threading.Channels;
using Freshet.Model.Data;
using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Telemetry;

namespace Freshet.Model.Training;

/// <summary>
/// Trains on two live streams, CTR samples and CVR samples, with dynamic sampling: each step takes
/// a full batch of whichever task has one ready (the one whose oldest sample is older when both
/// do), and never waits on an empty task. A partial batch is trained when its stream ends, or after
/// <see cref="TrainerOptions.MaxBatchWait"/> without more samples. Every sample is scored before it
/// is trained on (progressive validation), next to the running-popularity baseline.
/// </summary>
public sealed class StreamingTrainer
{
    private readonly FeatureSchema _schema;
    private readonly IParameterStore _store;
    private readonly TrainerOptions _options;
    private readonly TrainingStep _step;
    private readonly int _batchSize;
    private readonly int _cvrBatchSize;
    private readonly TaskState _ctr;
    private readonly TaskState _cvr;
    private readonly TagList _ctrTags;
    private readonly TagList _cvrTags;
    private long _samples;
    private long _steps;
    private long _expired;
    private long _nextExpiry = long.MinValue;
    private long _firstTime = long.MaxValue;
    private long _lastTime = long.MinValue;
    private float[] _scores = [];
    private int[] _eventOrder = [];
    private long[] _eventTimes = [];
    private float[] _ctcvrScores = [];
    private readonly TaskEvaluation? _ctcvr;
    private readonly Stopwatch _clock = new();

    public StreamingTrainer(FeatureSchema schema, IParameterStore store, TrainerOptions options, StepGate? gate = null)
    {
        Gate = gate ?? new StepGate();
        _schema = schema;
        _store = store;
        _options = options;
        _batchSize = options.BatchSize ?? schema.Model.BatchSize;
        _cvrBatchSize = options.CvrBatchSize ?? schema.Model.CvrBatchSize ?? ModelSpec.DefaultCvrBatchSize(_batchSize, schema.HasClicks && schema.HasConversions);
        _step = new TrainingStep(store, options.Plan);
        _ctrTags = FreshetTags.Of(options.Model, options.Job, TaskKind.Ctr);
        _cvrTags = FreshetTags.Of(options.Model, options.Job, TaskKind.Cvr);
        _ctr = new TaskState(TaskKind.Ctr, options, store.Layout, BaselineIndex(schema, store.Layout, conversion: false), WindowClosed(_ctrTags));
        _cvr = new TaskState(TaskKind.Cvr, options, store.Layout, BaselineIndex(schema, store.Layout, conversion: true), WindowClosed(_cvrTags));
        // pCTCVR on impressions is scored as a CTR-shaped task, metered under its own task tag.
        if (store.Layout.BothLabels) _ctcvr = new TaskEvaluation(TaskKind.Ctr, options.Window, windowClosed: WindowClosed(FreshetTags.Of(options.Model, options.Job).With("task", "ctcvr")), detail: options.Evaluation);
    }

    /// <summary>Called after every step (on the trainer's thread).</summary>
    public event Action<StepInfo>? StepCompleted;

    public int BatchSize => _batchSize;

    /// <summary>The sync-send barrier: pause at a step boundary, resume.</summary>
    public StepGate Gate { get; }

    public int CvrBatchSize => _cvrBatchSize;

    public long Samples => Interlocked.Read(ref _samples);

    public long Steps => Interlocked.Read(ref _steps);

    public TaskEvaluation CtrEvaluation => _ctr.Evaluation;

    public TaskEvaluation CvrEvaluation => _cvr.Evaluation;

    /// <summary>
    /// What the trainer holds that a long run could grow, for status and the soak drill: samples held one by one by the
    /// evaluations (bounded unless <see cref="TrainerOptions.Evaluation"/> is per sample), and keys counted by the
    /// counting baselines (bounded as their tables are). Read between steps, or as an estimate while one runs.
    /// </summary>
    public (long EvaluationHeld, long BaselineKeys, long BaselineEvicted) Held()
    {
        long keys = 0, evicted = 0;
        foreach (var b in _ctr.Counters.Fields.Concat(_cvr.Counters.Fields))
        {
            keys += b.Keys;
            evicted += b.Evicted;
        }
        return (_ctr.Evaluation.HeldSamples + _cvr.Evaluation.HeldSamples + (_ctcvr?.HeldSamples ?? 0), keys, evicted);
    }

    /// <summary>Latest event time trained on (UTC ticks), or null before the first step.</summary>
    public long? EventTime => _lastTime == long.MinValue ? null : _lastTime;

    private readonly TrainedPositions _positions = new();

    /// <summary>The position (<see cref="Sample.Position"/>) of the last sample trained from each task's stream, for samples the producer numbered (no <see cref="Sample.Source"/>); null: none yet.</summary>
    public long? LastPosition(TaskKind task) => _positions.Last(task, null);

    /// <summary>The position of the last sample trained from <paramref name="source"/> (null: the producer's own numbering) on <paramref name="task"/>'s stream; null: none yet.</summary>
    public long? LastPosition(TaskKind task, string? source) => _positions.Last(task, source);

    /// <summary>Every (task, source) the trainer has trained numbered samples from, with the last position of each and its offset in the source.</summary>
    public IReadOnlyList<(TaskKind Task, string? Source, long Position, string? Offset)> LastPositions() => _positions.All();

    /// <summary>
    /// Replays samples in order and trains until they are used up. Samples go to their task's batch in the order
    /// given, and a batch is trained as soon as it is full (the other task never waits for it); what is left at the
    /// end is trained oldest first. Reading overlaps training, and a replay of the same samples trains the same
    /// batches in the same order every time.
    /// </summary>
    public async Task<TrainingReport> ReplayAsync(IEnumerable<Sample> samples, CancellationToken cancellationToken = default)
    {
        var capacity = Math.Max(1, _options.BufferedBatches) * Math.Max(_batchSize, _cvrBatchSize);
        var channel = Channel.CreateBounded<Sample>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = Task.Run(async () =>
        {
            Exception? error = null;
            try
            {
                foreach (var s in samples) await channel.Writer.WriteAsync(s, stop.Token);
            }
            catch (Exception e)
            {
                error = e;
            }
            channel.Writer.TryComplete(error);
        }, CancellationToken.None);
        try
        {
            _clock.Restart();
            var ctr = new List<Sample>(_batchSize);
            var cvr = new List<Sample>(_cvrBatchSize);
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(stop.Token))
            {
                while (reader.TryRead(out var s))
                {
                    var (mine, other, size) = s.Task == TaskKind.Ctr ? (ctr, cvr, _batchSize) : (cvr, ctr, _cvrBatchSize);
                    mine.Add(s);
                    if (mine.Count >= size) await StepAsync(mine, other, stop.Token);
                }
            }
            await RethrowIfFaulted(reader.Completion);
            while (ctr.Count > 0 || cvr.Count > 0)
            {
                var older = ctr.Count == 0 ? cvr : cvr.Count == 0 ? ctr : ctr[0].Time <= cvr[0].Time ? ctr : cvr;
                await StepAsync(older, older == ctr ? cvr : ctr, stop.Token);
            }
            _clock.Stop();
            return CurrentReport();
        }
        finally
        {
            await stop.CancelAsync();
            await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Trains until both streams complete (or <paramref name="cancellationToken"/> fires).</summary>
    public async Task<TrainingReport> RunAsync(ChannelReader<Sample> ctr, ChannelReader<Sample> cvr, CancellationToken cancellationToken = default)
    {
        var clock = _clock;
        clock.Restart();
        var ctrBuffer = new List<Sample>(_batchSize);
        var cvrBuffer = new List<Sample>(_cvrBatchSize);
        var partialSince = (long?)null;
        Task? ctrWait = null, cvrWait = null; // one pending wait per stream, reused: a starved stream must not pile up waiters
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Fill(ctr, ctrBuffer, _batchSize);
            Fill(cvr, cvrBuffer, _cvrBatchSize);
            var ctrDone = ctr.Completion.IsCompleted;
            var cvrDone = cvr.Completion.IsCompleted;
            if (ctrDone) await RethrowIfFaulted(ctr.Completion);
            if (cvrDone) await RethrowIfFaulted(cvr.Completion);

            var ctrFull = ctrBuffer.Count >= _batchSize;
            var cvrFull = cvrBuffer.Count >= _cvrBatchSize;
            List<Sample>? pick = null;
            if (ctrFull && cvrFull) pick = ctrBuffer[0].Time <= cvrBuffer[0].Time ? ctrBuffer : cvrBuffer;
            else if (ctrFull) pick = ctrBuffer;
            else if (cvrFull) pick = cvrBuffer;
            // A stream that has ended will not fill its partial batch: train it now.
            else if (ctrDone && ctrBuffer.Count > 0) pick = ctrBuffer;
            else if (cvrDone && cvrBuffer.Count > 0) pick = cvrBuffer;
            if (pick is not null)
            {
                await StepAsync(pick, pick == ctrBuffer ? cvrBuffer : ctrBuffer, cancellationToken);
                partialSince = null;
                continue;
            }
            if (ctrDone && cvrDone)
            {
                break;
            }

            // Nothing full: wait for either stream, but not forever with a partial batch in hand.
            var waits = new List<Task>(3);
            if (!ctrDone) waits.Add(ctrWait ??= ctr.WaitToReadAsync(cancellationToken).AsTask());
            if (!cvrDone) waits.Add(cvrWait ??= cvr.WaitToReadAsync(cancellationToken).AsTask());
            if (ctrBuffer.Count > 0 || cvrBuffer.Count > 0)
            {
                partialSince ??= Stopwatch.GetTimestamp();
                var left = _options.MaxBatchWait - Stopwatch.GetElapsedTime(partialSince.Value);
                if (left <= TimeSpan.Zero)
                {
                    var older = ctrBuffer.Count == 0 ? cvrBuffer : cvrBuffer.Count == 0 ? ctrBuffer
                        : ctrBuffer[0].Time <= cvrBuffer[0].Time ? ctrBuffer : cvrBuffer;
                    await StepAsync(older, older == ctrBuffer ? cvrBuffer : ctrBuffer, cancellationToken);
                    partialSince = null;
                    continue;
                }
                waits.Add(Task.Delay(left, cancellationToken));
            }
            await Task.WhenAny(waits);
            if (ctrWait is { IsCompleted: true }) ctrWait = null;
            if (cvrWait is { IsCompleted: true }) cvrWait = null;
        }
        clock.Stop();
        return CurrentReport();
    }

    /// <summary>The report of what has been trained so far; call it while no step runs (paused, or finished).</summary>
    public TrainingReport CurrentReport() => new(
        _samples,
        _steps,
        _clock.Elapsed.TotalSeconds,
        _ctr.Evaluation.Report(),
        _cvr.Evaluation.Report(),
        _firstTime == long.MaxValue ? null : new DateTime(_firstTime, DateTimeKind.Utc),
        _lastTime == long.MinValue ? null : new DateTime(_lastTime, DateTimeKind.Utc),
        _expired,
        _ctcvr?.Report());

    private static void Fill(ChannelReader<Sample> reader, List<Sample> buffer, int batchSize)
    {
        while (buffer.Count < batchSize && reader.TryRead(out var s)) buffer.Add(s);
    }

    private static async Task RethrowIfFaulted(Task completion)
    {
        if (completion.IsFaulted) await completion; // surfaces the reader's error (e.g. a bad row under 'fail')
    }

    private async Task StepAsync(List<Sample> buffer, List<Sample> other, CancellationToken cancellationToken)
    {
        var task = buffer[0].Task;
        var state = task == TaskKind.Ctr ? _ctr : _cvr;
        var otherState = task == TaskKind.Ctr ? _cvr : _ctr;
        var n = buffer.Count;
        // Each stream is in event-time order: no sample scored after this step is older than the newest of this
        // batch, nor than the other stream's oldest waiting (or, with none waiting, the newest it trained).
        var newest = long.MinValue;
        foreach (var s in buffer) newest = Math.Max(newest, s.Time);
        state.Newest = Math.Max(state.Newest, newest);
        var otherBound = other.Count > 0 ? other.Min(s => s.Time) : otherState.Newest == long.MinValue ? long.MaxValue : otherState.Newest;
        _step.Watermark = Math.Min(newest, otherBound);
        if (_scores.Length < n)
        {
            _scores = new float[n];
            _ctcvrScores = new float[n];
        }
        float trainedLoss;
        await Gate.EnterStepAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        try
        {
            _step.StepNumber = Gate.Steps + 1;
            trainedLoss = await _step.RunAsync(buffer, task, true, _scores, cancellationToken, task == TaskKind.Ctr && _ctcvr is not null ? _ctcvrScores : null);
            // Inside the step: a barrier that holds the trainer after it sees positions and weights that agree.
            _positions.Record(task, buffer);
        }
        finally
        {
            Gate.ExitStep();
        }
        _options.Inspect?.Invoke(buffer, _step.LastInput.ToArray(), _scores.AsSpan(0, n).ToArray());
        if (_options.Instruments is { } instruments)
        {
            var tags = task == TaskKind.Ctr ? _ctrTags : _cvrTags;
            instruments.StepDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
            instruments.SamplesTrained.Add(n, tags);
        }

        // The counting baselines go per event in event time (a shop's counters): each sample is scored on the events
        // strictly before it, then its own events wait their time. The model scored the batch before its update.
        var counters = state.Counters;
        var fields = counters.Fields.Length;
        Span<float> baselines = stackalloc float[fields + 1];
        if (_eventOrder.Length < n)
        {
            _eventOrder = new int[n];
            _eventTimes = new long[n];
        }
        for (var i = 0; i < n; i++)
        {
            _eventOrder[i] = i;
            _eventTimes[i] = buffer[i].Time;
        }
        Array.Sort(_eventTimes, _eventOrder, 0, n);
        for (var k = 0; k < n; k++)
        {
            var i = _eventOrder[k];
            var s = buffer[i];
            counters.Advance(s.Time);
            // A repeat (a late positive, a duplicate) is a sample already scored: scored once; a positive counts from its arrival.
            if (!s.Arrival.IsRepeat())
            {
                counters.Score(s.Ids, baselines);
                var named = state.BaselineField >= 0 ? baselines[state.BaselineField] : counters.Global.Score(0);
                state.Evaluation.Add(_scores[i], s.Label, named, s.TrueProbability, s.Time, s.Group, baselines);
                if (task == TaskKind.Ctr && _ctcvr is not null && !float.IsNaN(s.ConversionLabel))
                {
                    _ctcvr.Add(_ctcvrScores[i], s.ConversionLabel, float.NaN, float.NaN, s.Time, s.Group);
                }
                _firstTime = Math.Min(_firstTime, s.Time);
                _lastTime = Math.Max(_lastTime, s.Time);
            }
            counters.Add(s);
        }
        buffer.Clear();
        Interlocked.Add(ref _samples, n);
        Interlocked.Increment(ref _steps);
        if (_options.ExpireEvery > TimeSpan.Zero && _lastTime >= _nextExpiry)
        {
            if (_nextExpiry != long.MinValue)
            {
                _expired += await _store.ExpireAsync(_lastTime, cancellationToken);
                foreach (var b in _ctr.Counters.Fields.Concat(_cvr.Counters.Fields)) b.Expire(_lastTime);
            }
            _nextExpiry = _lastTime + _options.ExpireEvery.Ticks;
        }
        StepCompleted?.Invoke(new StepInfo(task, n, !float.IsNaN(trainedLoss), trainedLoss, _lastTime, _samples));
    }

    private static int BaselineIndex(FeatureSchema schema, FeatureLayout layout, bool conversion)
    {
        var name = schema.BaselineField(conversion);
        for (var i = 0; i < layout.IdFields.Count; i++)
        {
            if (layout.IdFields[i].Field.Name == name) return i;
        }
        return -1;
    }

    /// <summary>
    /// One task's evaluation and what users run today, scored on the same samples: every id field's running smoothed
    /// rate, their mean, and the schema's named one, counted per event in event time (<see cref="EventTimeCounters"/>).
    /// </summary>
    private sealed class TaskState(TaskKind task, TrainerOptions options, FeatureLayout layout, int baselineField, Action<double>? windowClosed)
    {
        public TaskEvaluation Evaluation { get; } = new(task, options.Window, [.. layout.IdFields.Select(f => f.Field.Name), MeanBaseline], windowClosed, options.Evaluation);

        /// <summary>Each id field's running rate (keeping as many ids as the field's table does: its cap and expiry) and the global rate, per event.</summary>
        public EventTimeCounters Counters { get; } = new(
            [.. layout.IdFields.Select(f => new PopularityBaseline(10, layout.Tables[f.TableIndex].MaxRows, layout.Tables[f.TableIndex].ExpireAfter))], new PopularityBaseline());

        public int BaselineField { get; } = baselineField;

        /// <summary>The newest event time trained on this task's stream (UTC ticks).</summary>
        public long Newest { get; set; } = long.MinValue;
    }

    private Action<double>? WindowClosed(TagList tags) =>
        _options.Instruments is { } instruments ? auc => instruments.WindowAuc.Record(auc, tags) : null;

    /// <summary>The name under which the mean of the id fields' rates is reported.</summary>
    public const string MeanBaseline = "mean";
}
