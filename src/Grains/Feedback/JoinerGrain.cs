using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Grains.Placement;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Freshet.Grains.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using static Freshet.Grains.Persistence.ShutdownPolicy;

namespace Freshet.Grains.Feedback;

/// <summary>
/// One partition of a model's feedback loop. Serving logs each scored row here (<see cref="LogAsync"/>); labels
/// reported for it (<see cref="LabelAsync"/>) make training samples, published onto the main job's sample streams:
/// a click makes a CTR positive at once and enters the click into the conversion join; an impression whose click
/// window closes unclicked makes a CTR negative; a click is trained for CVR as the spec's method says (FNW: a
/// provisional negative at once, a late positive when its conversion comes; wait: once, when it is known).
/// Pending rows are bounded (the oldest settles early, counted) and persisted every persist interval in chunks of bounded
/// size (<see cref="ChunkedGrainState"/>, as a shard's state is), so a joiner
/// moving to another silo loses at most what came in since its last persist.
/// </summary>
[TrainingSilo]
public sealed partial class JoinerGrain(
    TimeProvider time,
    [FromKeyedServices(FreshetNames.GrainStorage)] IGrainStorage storage,
    Serializer<JoinerState> serializer,
    FreshetInstruments instruments,
    ILogger<JoinerGrain> logger) : Grain, IJoinerGrain
{
    /// <summary>Samples per stream message (a few KB each way under the 32 KB the sample publisher keeps to).</summary>
    private const int SamplesPerMessage = 128;

    /// <summary>Weights versions whose served quality a joiner keeps (the latest).</summary>
    public const int VersionsKept = 64;

    private IReadOnlyList<Freshet.Model.Sequences.SequenceField> _sequences = [];
    private long _sequencesNotRecorded;
    private LabelJoin<Guid>? _impressions;
    private LabelJoin<Guid>? _clicks;
    private IGrainTimer? _timer;
    private long _lastPersist;
    private bool _dirty;
    private System.Diagnostics.TagList _tags;
    private JoinerKey _key;

    private JoinerState _state = new();
    private ChunkedGrainState? _chunks;

    /// <summary>The name under which a joiner's state was written whole, before it was chunked; read once, then cleared.</summary>
    private const string WholeStateName = "joiner";

    private JoinerKey Key => _key;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = JoinerKey.Parse(this.GetPrimaryKeyString());
        _tags = FreshetTags.Of(Key.Model);
        // Chunked like a shard's state, so no storage's record limit is hit however much is pending (Azure Table: 1 MB).
        _chunks = new ChunkedGrainState(storage, this.GetGrainId(), "joiner");
        if (await _chunks.ReadAsync(cancellationToken) is { } bytes)
        {
            _state = serializer.Deserialize(bytes) ?? throw new InvalidDataException($"joiner {this.GetPrimaryKeyString()}: its persisted state decodes to nothing");
        }
        else
        {
            var whole = new GrainState<JoinerState>(new JoinerState());
            await storage.ReadStateAsync(WholeStateName, this.GetGrainId(), whole, cancellationToken);
            if (whole.RecordExists && whole.State is { } earlier)
            {
                _state = earlier;
                _dirty = true; // written chunked at the next persist, and the whole record cleared
                _wholeRecord = whole;
            }
        }
        _unsent = _state.Unsent.Length == 0 ? [] : SampleCodec.Decode(_state.Unsent);
        if (_state.Config is { } config)
        {
            Build(config, _state);
            StartTimer(config);
        }
    }

    /// <summary>Samples made by an earlier turn whose publish failed: they go out first, and are written with the state until then.</summary>
    private List<Sample> _unsent = [];

    /// <summary>Unsent samples kept at most; past it the oldest are dropped, and the log says how many.</summary>
    public const int MaxUnsent = 100_000;

    /// <summary>A state found written whole (before chunking), cleared once it has been written chunked.</summary>
    private GrainState<JoinerState>? _wholeRecord;

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && !GrainStateDiesWithSilo(storage, reason)) await PersistAsync();
    }

    public async Task ConfigureAsync(JoinerConfig config)
    {
        if (config.Spec.Problems() is { Count: > 0 } problems) throw new FeedbackException(string.Join("; ", problems));
        if (string.IsNullOrEmpty(config.Job) || config.Trainers < 1) throw new FeedbackException($"joiner {Key}: name the job its samples feed and its trainer count");
        // Settings may change (windows, method, cap); what is pending carries over with the deadlines it had.
        var current = Snapshot();
        current.Config = config;
        Build(config, current);
        StartTimer(config);
        await PersistAsync();
    }

    public Task<JoinerConfig?> GetConfigAsync() => Task.FromResult(_state.Config);

    public async Task LogAsync(PredictionLog log)
    {
        var (impressions, _) = Joins();
        if (Clock.IsAhead(log.Time.ToUniversalTime().Ticks))
        {
            TimesRejected(log.Ids.Length, "prediction-log");
            return;
        }
        var samples = SampleCodec.Decode(log.Samples);
        if (samples.Count != log.Ids.Length) throw new FeedbackException($"joiner {Key}: a prediction log of {log.Ids.Length} ids carries {samples.Count} samples");
        // Shadowed rows are paired against the good weights that shadowed them; a log that does not name them has no baseline.
        var shadowed = log.ShadowCtr.Length == samples.Count && log.Shadow is not null;
        var ready = new List<Sample>();
        var added = new List<(Sample, long)>();
        for (var i = 0; i < samples.Count; i++)
        {
            if (impressions.Add(log.Ids[i], samples[i].As(TaskKind.Ctr, samples[i].Time), ready))
            {
                added.Add((samples[i], samples[i].Time));
                _state.Served[log.Ids[i]] = new ServedAnswer(log.Ctr[i], log.Cvr[i], log.Weights, shadowed ? log.ShadowCtr[i] : float.NaN, shadowed ? log.Shadow : null, samples[i].Time);
            }
        }
        var quality = ServedQualities.Of(_state, log.Weights);
        quality.LastScored = Math.Max(quality.LastScored, log.Time.Ticks);
        _state.Counts.Predictions += samples.Count;
        _dirty = true;
        Advance(log.Time.Ticks, ready);
        await RecordSequencesAsync(Freshet.Model.Sequences.SequenceEvent.Impression, added, log.Time.ToUniversalTime().Ticks);
        await PublishAsync(ready);
    }

    public async Task LabelAsync(IReadOnlyList<FeedbackLabel> labels)
    {
        var (impressions, clicks) = Joins();
        var ready = new List<Sample>();
        var clicked = new List<(Sample, long)>();
        var converted = new List<(Sample, long)>();
        var latest = long.MinValue;
        foreach (var label in labels)
        {
            if (label.Prediction.Model != Key.Model || label.Prediction.Joiner != Key.Joiner)
            {
                throw new FeedbackException($"prediction {label.Prediction} belongs to joiner {label.Prediction.Model}/{label.Prediction.Joiner}, not {Key}: report it through FreshetClient.ReportAsync, which routes by the id");
            }
            var at = label.Time.ToUniversalTime().Ticks;
            if (Clock.IsAhead(at))
            {
                TimesRejected(1, "label");
                continue;
            }
            var id = label.Prediction.Value;
            bool joined;
            bool expired;
            if (label.Event == FeedbackEvent.Click)
            {
                var before = impressions.Expired;
                joined = impressions.Positive(id, at, ready, out var impression);
                expired = impressions.Expired > before;
                if (joined)
                {
                    clicks.Add(id, impression!.As(TaskKind.Cvr, Math.Max(at, impression.Time)), ready);
                    clicked.Add((impression, impression.Time));
                }
            }
            else
            {
                var before = clicks.Expired;
                joined = clicks.Positive(id, at, ready, out var click);
                expired = clicks.Expired > before;
                if (joined) converted.Add((click!, Math.Max(at, click!.Time)));
            }
            instruments.Labels.Add(1, _tags.With("event", label.Event.Name()).With("outcome", joined ? "joined" : expired ? "expired" : "unmatched"));
            latest = Math.Max(latest, at);
        }
        // The batch's labels are judged on the clock as it stood (one after its window counts as expired, its sample
        // settled as a negative); then the clock moves to the latest of them, closing what it passes.
        _dirty = true;
        Advance(latest, ready);
        await RecordSequencesAsync(Freshet.Model.Sequences.SequenceEvent.Click, clicked, latest);
        await RecordSequencesAsync(Freshet.Model.Sequences.SequenceEvent.Conversion, converted, latest);
        await PublishAsync(ready);
    }

    /// <summary>
    /// Records what the loop reported in the model's live sequence fields (an impression at its own time, a click at its
    /// impression's, a conversion at its own). A sequence grain that cannot be reached loses these values (counted and
    /// logged), never the labels.
    /// </summary>
    private async Task RecordSequencesAsync(Freshet.Model.Sequences.SequenceEvent what, List<(Sample, long)> samples, long now)
    {
        if (_sequences.Count == 0 || samples.Count == 0) return;
        try
        {
            await Serving.LiveSequences.RecordAsync(GrainFactory, Key.Model, _sequences, what, samples, now);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var total = _sequencesNotRecorded += samples.Count;
            LogSequencesNotRecorded(logger, e, Key.ToString(), samples.Count, total);
        }
    }

    public Task<JoinerStatus> GetStatusAsync()
    {
        var counts = _state.Counts;
        var impressions = _impressions?.Counts ?? default;
        var clicks = _clicks?.Counts ?? default;
        return Task.FromResult(new JoinerStatus
        {
            Joiner = Key.ToString(),
            Configured = _state.Config is not null,
            Predictions = counts.Predictions,
            PendingImpressions = _impressions?.Pending ?? 0,
            PendingClicks = _clicks?.Pending ?? 0,
            // A joined impression is a click; a joined click, a conversion.
            Clicks = impressions.Joined,
            Conversions = clicks.Joined,
            LabelsUnmatched = impressions.Unmatched + clicks.Unmatched,
            LabelsExpired = impressions.Expired + clicks.Expired,
            Evicted = impressions.Evicted + clicks.Evicted,
            CtrSamples = counts.CtrSamples,
            CvrSamples = counts.CvrSamples,
            Now = _state.Now == long.MinValue ? null : new DateTime(_state.Now, DateTimeKind.Utc),
            TimesRejected = Interlocked.Read(ref _timesRejected),
            Unpersisted = _dirty,
            Quality = [.. _state.Quality.Select(q => ServedQualities.WithSettled(_state, q))],
        });
    }

    private void Record(TaskKind task, float p, float label, Freshet.Model.Serving.WeightsVersion weights)
    {
        instruments.ServedLogLoss.Record(Freshet.Model.Metrics.ScoreBins.LogLossOf(p, label), _tags.With("task", task.Name()).With("checkpoint", weights.Checkpoint));
    }

    private (LabelJoin<Guid> Impressions, LabelJoin<Guid> Clicks) Joins() =>
        _impressions is { } i && _clicks is { } c
            ? (i, c)
            : throw new FeedbackException($"model '{Key.Model}' logs no predictions: start its deployment with a feedback spec (DeploymentSpec.Feedback) to report labels");

    private void Build(JoinerConfig config, JoinerState from)
    {
        var spec = config.Spec;
        _sequences = config.SchemaJson.Length == 0 ? []
            : Freshet.Model.Sequences.SequenceField.Of(Freshet.Model.Schema.FeatureLayout.From(Freshet.Model.Schema.SchemaLoader.Parse(config.SchemaJson, $"joiner {Key}", streaming: false)));
        _impressions = new LabelJoin<Guid>(spec.Method, spec.ClickWindow, spec.MaxPendingPerJoiner);
        _clicks = new LabelJoin<Guid>(spec.Method, spec.AttributionWindow, spec.MaxPendingPerJoiner);
        from.Impressions.RestoreInto(_impressions);
        from.Clicks.RestoreInto(_clicks);
        _state = from;
        // An impression that settles scores serving's CTR answer; a click that settles, its CVR answer.
        _impressions.Settled = (key, label) =>
        {
            if (!_state.Served.TryGetValue(key, out var answer)) return;
            var quality = ServedQualities.Of(_state, answer.Weights);
            quality.Ctr.Add(answer.Ctr, label);
            // Shadowed: the good weights' answer on the same row, for the guard's paired comparison against those weights.
            if (!float.IsNaN(answer.ShadowCtr) && answer.Shadow is { } shadow)
            {
                ServedQualities.Pair(_state, new HeldPair(answer.Scored + config.Spec.ClickWindow.Ticks, answer.Weights, shadow,
                    Freshet.Model.Metrics.ScoreBins.LogLossOf(answer.Ctr, label), Freshet.Model.Metrics.ScoreBins.LogLossOf(answer.ShadowCtr, label)));
            }
            Record(TaskKind.Ctr, answer.Ctr, label, answer.Weights);
            if (label < 0.5f) _state.Served.Remove(key); // not clicked: no conversion to wait for
        };
        _clicks.Settled = (key, label) =>
        {
            if (_state.Served.Remove(key, out var answer))
            {
                ServedQualities.Of(_state, answer.Weights).Cvr.Add(answer.Cvr, label);
                Record(TaskKind.Cvr, answer.Cvr, label, answer.Weights);
            }
        };
    }

    /// <summary>The state as it stands now (pending samples encoded), for persisting.</summary>
    private JoinerState Snapshot()
    {
        var s = _state;
        if (_impressions is not null) s.Impressions = PendingSamples.Of(_impressions);
        if (_clicks is not null) s.Clicks = PendingSamples.Of(_clicks);
        s.Unsent = _unsent.Count == 0 ? [] : SampleCodec.Encode(_unsent);
        return s;
    }

    private async Task PersistAsync()
    {
        _state = Snapshot();
        await _chunks!.WriteAsync(serializer.SerializeToArray(_state));
        if (_wholeRecord is { } whole)
        {
            await storage.ClearStateAsync(WholeStateName, this.GetGrainId(), whole);
            _wholeRecord = null;
        }
        _lastPersist = time.GetTimestamp();
        _dirty = false;
    }

    private void StartTimer(JoinerConfig config)
    {
        _timer?.Dispose();
        var period = TimeSpan.FromSeconds(1);
        _timer = this.RegisterGrainTimer(async _ =>
        {
            if (config.Clock == ClockKind.Wall)
            {
                // Only windows closing change what a crash would lose: an idle joiner is not written every interval.
                var ready = new List<Sample>();
                if (Advance(time.GetUtcNow().UtcTicks, ready)) _dirty = true;
                await PublishAsync(ready);
            }
            else if (_unsent.Count > 0)
            {
                await PublishAsync([]);
            }
            if (_dirty && time.GetElapsedTime(_lastPersist) >= config.PersistInterval) await PersistAsync();
        }, new GrainTimerCreationOptions(period, period) { Interleave = false, KeepAlive = true });
    }

    /// <summary>Moves the clock to <paramref name="now"/>, closing the windows it passes; true when any closed.</summary>
    private bool Advance(long now, List<Sample> ready)
    {
        if (now <= _state.Now) return false;
        _state.Now = now;
        var (impressions, clicks) = Joins();
        var evicted = impressions.Evicted + clicks.Evicted;
        var pending = impressions.Pending + clicks.Pending;
        impressions.Advance(now, ready);
        clicks.Advance(now, ready);
        if (impressions.Evicted + clicks.Evicted > evicted) instruments.PendingEvicted.Add(impressions.Evicted + clicks.Evicted - evicted, _tags);
        // Held pairs whose click window closed by now count, on the rule the joins close windows by (deadline before now).
        var closed = ServedQualities.ReleaseClosed(_state, now);
        return impressions.Pending + clicks.Pending != pending || closed > 0;
    }

    // Times on the wire are checked against this silo's clock: one label or log a year ahead would move the joiner's
    // clock there for good, closing every pending window at once and none by time again.
    private long _timesRejected;
    private WireClock? _clock;

    private WireClock Clock => _clock ??= ServiceProvider.GetRequiredService<WireClock>();

    private void TimesRejected(long count, string input)
    {
        var total = Interlocked.Add(ref _timesRejected, count);
        Clock.Rejected(Key.Model, input, count);
        if (total - count < 100 || total / 1000 != (total - count) / 1000) LogTimeRejected(logger, Key.ToString(), count, input, total, Clock.MaxSkew);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Joiner {Joiner} refused {Count} {Input}(s) whose time was more than {Skew} ahead of its clock ({Total} so far); fix the sender's clock")]
    private static partial void LogTimeRejected(ILogger logger, string joiner, long count, string input, long total, TimeSpan skew);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Joiner {Joiner} could not record {Count} values in its model's sequences ({Total} so far); rows scored meanwhile see shorter sequences")]
    private static partial void LogSequencesNotRecorded(ILogger logger, Exception error, string joiner, int count, long total);

}
