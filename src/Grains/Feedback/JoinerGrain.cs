using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Grains.Placement;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Telemetry;
using Freshet.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Freshet.Grains.Feedback;

/// <summary>
/// One partition of a model's feedback loop. Serving logs each scored row here (<see cref="LogAsync"/>); labels
/// reported for it (<see cref="LabelAsync"/>) make training samples, published onto the main job's sample streams:
/// a click makes a CTR positive at once and enters the click into the conversion join; an impression whose click
/// window closes unclicked makes a CTR negative; a click is trained for CVR as the spec's method says (FNW: a
/// provisional negative at once, a late positive when its conversion comes; wait: once, when it is known).
/// Pending rows are bounded (the oldest settles early, counted) and persisted every persist interval, so a joiner
/// moving to another silo loses at most what came in since its last persist.
/// </summary>
[TrainingSilo]
public sealed partial class JoinerGrain(
    TimeProvider time,
    [PersistentState("joiner", FreshetNames.GrainStorage)] IPersistentState<JoinerState> state,
    FreshetInstruments instruments,
    ILogger<JoinerGrain> logger) : Grain, IJoinerGrain
{
    /// <summary>Samples per stream message (a few KB each way under the 32 KB the sample publisher keeps to).</summary>
    private const int SamplesPerMessage = 128;

    /// <summary>Weights versions whose served quality a joiner keeps (the latest).</summary>
    public const int VersionsKept = 64;

    private LabelJoin<Guid>? _impressions;
    private LabelJoin<Guid>? _clicks;
    private IGrainTimer? _timer;
    private long _lastPersist;
    private bool _dirty;
    private System.Diagnostics.TagList _tags;
    private JoinerKey _key;

    private JoinerKey Key => _key;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = JoinerKey.Parse(this.GetPrimaryKeyString());
        _tags = FreshetTags.Of(Key.Model);
        if (state.State.Config is { } config)
        {
            Build(config, state.State);
            StartTimer(config);
        }
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty) await PersistAsync();
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

    public Task<JoinerConfig?> GetConfigAsync() => Task.FromResult(state.State.Config);

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
        var shadowed = log.ShadowCtr.Length == samples.Count;
        var ready = new List<Sample>();
        for (var i = 0; i < samples.Count; i++)
        {
            if (impressions.Add(log.Ids[i], samples[i].As(TaskKind.Ctr, samples[i].Time), ready))
            {
                state.State.Served[log.Ids[i]] = new ServedAnswer(log.Ctr[i], log.Cvr[i], log.Weights, shadowed ? log.ShadowCtr[i] : float.NaN);
            }
        }
        var quality = Score(log.Weights);
        quality.LastScored = Math.Max(quality.LastScored, log.Time.Ticks);
        state.State.Counts.Predictions += samples.Count;
        _dirty = true;
        Advance(log.Time.Ticks, ready);
        await PublishAsync(ready);
    }

    public async Task LabelAsync(IReadOnlyList<FeedbackLabel> labels)
    {
        var (impressions, clicks) = Joins();
        var ready = new List<Sample>();
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
                if (joined) clicks.Add(id, impression!.As(TaskKind.Cvr, Math.Max(at, impression.Time)), ready);
            }
            else
            {
                var before = clicks.Expired;
                joined = clicks.Positive(id, at, ready);
                expired = clicks.Expired > before;
            }
            instruments.Labels.Add(1, _tags.With("event", label.Event.Name()).With("outcome", joined ? "joined" : expired ? "expired" : "unmatched"));
            latest = Math.Max(latest, at);
        }
        // The batch's labels are judged on the clock as it stood (one after its window counts as expired, its sample
        // settled as a negative); then the clock moves to the latest of them, closing what it passes.
        _dirty = true;
        Advance(latest, ready);
        await PublishAsync(ready);
    }

    public Task<JoinerStatus> GetStatusAsync()
    {
        var counts = state.State.Counts;
        var impressions = _impressions?.Counts ?? default;
        var clicks = _clicks?.Counts ?? default;
        return Task.FromResult(new JoinerStatus
        {
            Joiner = Key.ToString(),
            Configured = state.State.Config is not null,
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
            Now = state.State.Now == long.MinValue ? null : new DateTime(state.State.Now, DateTimeKind.Utc),
            TimesRejected = Interlocked.Read(ref _timesRejected),
            Unpersisted = _dirty,
            Quality = [.. state.State.Quality.Select(WithSettled)],
        });
    }

    /// <summary>A copy of <paramref name="q"/> saying whether every impression it answered has its click label by this joiner's clock.</summary>
    private ServedQuality WithSettled(ServedQuality q) => new()
    {
        Weights = q.Weights, Ctr = q.Ctr, Cvr = q.Cvr, Paired = q.Paired, LastScored = q.LastScored,
        Settled = state.State.Config is { } config && state.State.Now != long.MinValue && q.LastScored + config.Spec.ClickWindow.Ticks <= state.State.Now,
    };

    private void Record(TaskKind task, float p, float label, Freshet.Model.Serving.WeightsVersion weights)
    {
        instruments.ServedLogLoss.Record(Freshet.Model.Metrics.ScoreBins.LogLossOf(p, label), _tags.With("task", task.Name()).With("checkpoint", weights.Checkpoint));
    }

    /// <summary>The served quality of <paramref name="weights"/>, kept among the latest <see cref="VersionsKept"/> versions.</summary>
    private ServedQuality Score(Freshet.Model.Serving.WeightsVersion weights)
    {
        var list = state.State.Quality;
        var i = list.FindIndex(q => q.Weights == weights);
        if (i >= 0) return list[i];
        var quality = new ServedQuality { Weights = weights };
        var at = list.FindIndex(q => q.Weights > weights);
        list.Insert(at < 0 ? list.Count : at, quality);
        if (list.Count > VersionsKept) list.RemoveAt(0);
        return quality;
    }

    private (LabelJoin<Guid> Impressions, LabelJoin<Guid> Clicks) Joins() =>
        _impressions is { } i && _clicks is { } c
            ? (i, c)
            : throw new FeedbackException($"model '{Key.Model}' logs no predictions: start its deployment with a feedback spec (DeploymentSpec.Feedback) to report labels");

    private void Build(JoinerConfig config, JoinerState from)
    {
        var spec = config.Spec;
        _impressions = new LabelJoin<Guid>(spec.Method, spec.ClickWindow, spec.MaxPendingPerJoiner);
        _clicks = new LabelJoin<Guid>(spec.Method, spec.AttributionWindow, spec.MaxPendingPerJoiner);
        Restore(_impressions, from.Impressions);
        Restore(_clicks, from.Clicks);
        state.State = from;
        // An impression that settles scores serving's CTR answer; a click that settles, its CVR answer.
        _impressions.Settled = (key, label) =>
        {
            if (!state.State.Served.TryGetValue(key, out var answer)) return;
            var quality = Score(answer.Weights);
            quality.Ctr.Add(answer.Ctr, label);
            // Shadowed: the good weights' answer on the same row, for the guard's paired comparison.
            if (!float.IsNaN(answer.ShadowCtr))
            {
                quality.Paired.Add(Freshet.Model.Metrics.ScoreBins.LogLossOf(answer.Ctr, label), Freshet.Model.Metrics.ScoreBins.LogLossOf(answer.ShadowCtr, label));
            }
            Record(TaskKind.Ctr, answer.Ctr, label, answer.Weights);
            if (label < 0.5f) state.State.Served.Remove(key); // not clicked: no conversion to wait for
        };
        _clicks.Settled = (key, label) =>
        {
            if (state.State.Served.Remove(key, out var answer))
            {
                Score(answer.Weights).Cvr.Add(answer.Cvr, label);
                Record(TaskKind.Cvr, answer.Cvr, label, answer.Weights);
            }
        };
    }

    private static void Restore(LabelJoin<Guid> join, PendingSamples pending)
    {
        var samples = pending.Samples.Length == 0 ? [] : SampleCodec.Decode(pending.Samples);
        for (var i = 0; i < pending.Keys.Length; i++) join.Restore(pending.Keys[i], samples[i], pending.Deadlines[i]);
        join.Counts = pending.Counts;
    }

    private static PendingSamples Save(LabelJoin<Guid> join)
    {
        var entries = join.Entries.ToList();
        return new PendingSamples
        {
            Keys = [.. entries.Select(e => e.Key)],
            Deadlines = [.. entries.Select(e => e.Deadline)],
            Samples = entries.Count == 0 ? [] : SampleCodec.Encode([.. entries.Select(e => e.Sample)]),
            Counts = join.Counts,
        };
    }

    /// <summary>The state as it stands now (pending samples encoded), for persisting.</summary>
    private JoinerState Snapshot()
    {
        var s = state.State;
        if (_impressions is not null) s.Impressions = Save(_impressions);
        if (_clicks is not null) s.Clicks = Save(_clicks);
        return s;
    }

    private async Task PersistAsync()
    {
        state.State = Snapshot();
        await state.WriteStateAsync();
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
            if (_dirty && time.GetElapsedTime(_lastPersist) >= config.PersistInterval) await PersistAsync();
        }, new GrainTimerCreationOptions(period, period) { Interleave = false, KeepAlive = true });
    }

    /// <summary>Moves the clock to <paramref name="now"/>, closing the windows it passes; true when any closed.</summary>
    private bool Advance(long now, List<Sample> ready)
    {
        if (now <= state.State.Now) return false;
        state.State.Now = now;
        var (impressions, clicks) = Joins();
        var evicted = impressions.Evicted + clicks.Evicted;
        var pending = impressions.Pending + clicks.Pending;
        impressions.Advance(now, ready);
        clicks.Advance(now, ready);
        if (impressions.Evicted + clicks.Evicted > evicted) instruments.PendingEvicted.Add(impressions.Evicted + clicks.Evicted - evicted, _tags);
        return impressions.Pending + clicks.Pending != pending;
    }

    /// <summary>Publishes samples onto the main job's streams, each to its trainer partition and task.</summary>
    private async Task PublishAsync(List<Sample> ready)
    {
        if (ready.Count == 0) return;
        var config = state.State.Config!;
        var provider = this.GetStreamProvider(FreshetNames.StreamProvider);
        foreach (var group in ready.GroupBy(s => (Partition: SampleStreams.PartitionOf(s, config.Trainers), s.Task)))
        {
            var stream = provider.GetStream<SampleBatch>(SampleStreams.Id(config.Job, group.Key.Partition, group.Key.Task));
            foreach (var chunk in group.Chunk(SamplesPerMessage))
            {
                await stream.OnNextAsync(new SampleBatch { Payload = SampleCodec.Encode(chunk), Count = chunk.Length, Origin = $"joiner {Key}" });
            }
            var tags = _tags.With("task", group.Key.Task.Name());
            instruments.FeedbackSamples.Add(group.Count(), tags);
            if (group.Key.Task == TaskKind.Ctr) state.State.Counts.CtrSamples += group.Count();
            else state.State.Counts.CvrSamples += group.Count();
        }
        LogPublished(logger, Key.ToString(), ready.Count, config.Job);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Joiner {Joiner} published {Samples} samples to job {Job}")]
    private static partial void LogPublished(ILogger logger, string joiner, int samples, string job);
}
