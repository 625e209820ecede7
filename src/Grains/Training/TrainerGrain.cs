using Freshet.Grains.Placement;
using System.Threading.Channels;
using Freshet.Jobs;
using Freshet.Grains.Streaming;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Telemetry;
using Freshet.Model.Training;
using Freshet.Parameters;
using Freshet.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace Freshet.Grains.Training;

/// <summary>
/// Trains one partition of a job. Sample batches arrive on the partition's CTR and CVR streams (in
/// grain turns, which only decode and enqueue); the streaming trainer runs on the thread pool, off
/// the Orleans scheduler, against the cluster parameter store.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
[TrainingSilo, SpreadOverTrainingSilos]
public sealed partial class TrainerGrain(
    IGrainFactory grains,
    SampleStreamProviders sampleProviders,
    [PersistentState("trainer", FreshetNames.GrainStorage)] IPersistentState<TrainerState> state,
    FreshetInstruments instruments,
    ILocalSiloDetails local,
    ILogger<TrainerGrain> logger) : Grain, ITrainerGrain
{
    private Channel<Sample>? _ctr;
    private Channel<Sample>? _cvr;
    private StreamingTrainer? _trainer;
    private ClusterParameterStore? _store;
    private Task? _loop;
    private CancellationTokenSource? _stop;
    private TrainingReport? _report;
    private long _received;
    private string? _error;
    private RequestFeaturizer? _raw;
    private System.Diagnostics.TagList _tags;
    private long _rejected;
    private long _shed;

    /// <summary>
    /// Samples a task's queue holds between the streams and the training loop: past it, a delivery waits for room
    /// (pushing back on the stream: a persistent stream's agent then stops reading ahead), for at most
    /// <see cref="ShedAfter"/>. The sample publisher keeps at most 16,384 in flight per partition, well inside it.
    /// </summary>
    public const int QueueCapacity = 32_768;

    /// <summary>
    /// How long a delivery waits for room in a full queue before the rest of its batch is shed (counted in status, meters
    /// and the log): under Orleans' 30-second response timeout, past which the stream would deliver the batch again.
    /// </summary>
    public static readonly TimeSpan ShedAfter = TimeSpan.FromSeconds(20);

    private readonly ReplayPositions _replay = new();
    private readonly ProducerCounts _delivered = new();
    private JobState _state = JobState.Created;

    private string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Spec is { } spec && state.State.Running)
        {
            await StartLoopAsync(spec);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stop?.Cancel();
        CloseQueues();
        return Task.CompletedTask;
    }

    /// <summary>No more samples are taken (a delivery waiting for room gives up at once): the loop has stopped.</summary>
    private void CloseQueues()
    {
        _ctr?.Writer.TryComplete();
        _cvr?.Writer.TryComplete();
    }

    public async Task StartAsync(JobSpec spec)
    {
        state.State.Spec = spec;
        state.State.Running = true;
        await state.WriteStateAsync();
        await StartLoopAsync(spec);
    }

    public async Task SkipThroughAsync(IReadOnlyDictionary<string, long> positions)
    {
        state.State.SkipThrough = new Dictionary<string, long>(positions, StringComparer.Ordinal);
        await state.WriteStateAsync();
        _replay.Restored();
    }

    public async Task<long> PauseAsync()
    {
        if (_trainer is null) return 0;
        return await _trainer.Gate.PauseAsync();
    }

    public Task ResumeAsync()
    {
        _trainer?.Gate.Resume();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops training, then leaves the sample streams. Safe to call again after a failure (a stream's pub-sub grain
    /// on a silo that just died): the loop is stopped first, and the subscriptions are looked up afresh each time,
    /// since a handle used once (or in a failed unsubscribe) is no longer valid.
    /// </summary>
    public async Task StopAsync()
    {
        state.State.Running = false;
        await state.WriteStateAsync();
        if (_stop is not null) await _stop.CancelAsync();
        CloseQueues();
        _trainer?.Gate.Resume();
        if (_loop is not null) await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        if (_state is JobState.Running or JobState.Paused) _state = JobState.Stopped;
        if (state.State.Spec is not { } spec) return;
        foreach (var (stream, _) in Streams(spec))
        {
            foreach (var h in await stream.GetAllSubscriptionHandles()) await h.UnsubscribeAsync();
        }
    }

    /// <summary>This trainer's sample streams on every provider that carries them: replayed samples, and plain JSON producers' hubs.</summary>
    private IEnumerable<(IAsyncStream<SampleBatch> Stream, TaskKind Task)> Streams(JobSpec spec)
    {
        var (job, partition) = TrainerKey.Parse(Key);
        var source = string.IsNullOrEmpty(spec.SampleStreams) ? job : spec.SampleStreams;
        foreach (var task in new[] { TaskKind.Ctr, TaskKind.Cvr })
        {
            foreach (var name in sampleProviders.For(task)) yield return (this.GetStreamProvider(name).GetStream<SampleBatch>(SampleStreams.Id(source, partition, task)), task);
        }
    }

    public Task<TrainerStatus> GetStatusAsync() => Task.FromResult(new TrainerStatus
    {
        Trainer = Key,
        State = _trainer?.Gate.IsPaused == true && _state == JobState.Running ? JobState.Paused : _state,
        SamplesReceived = Interlocked.Read(ref _received),
        SamplesTrained = _trainer?.Samples ?? 0,
        Steps = _trainer?.Gate.Steps ?? 0,
        Paused = _trainer?.Gate.IsPaused ?? false,
        Completed = _state == JobState.Completed,
        Error = _error,
        EventTime = _trainer?.EventTime is { } t ? new DateTime(t, DateTimeKind.Utc) : null,
        GrainCallsPerStep = _store?.CallsPerStep ?? 0,
        SamplesRejected = Interlocked.Read(ref _rejected),
        SamplesTimeRejected = Interlocked.Read(ref _timesRejected),
        StreamErrors = Interlocked.Read(ref _streamErrors),
        BatchesUndecodable = Interlocked.Read(ref _undecodable),
        SamplesSkipped = _replay.Skipped,
        SamplesRepeated = _replay.Repeated,
        SamplesQueued = (_ctr?.Reader.Count ?? 0) + (_cvr?.Reader.Count ?? 0),
        QueueCapacity = 2 * QueueCapacity,
        SamplesShed = Interlocked.Read(ref _shed),
        EvaluationHeld = _held.EvaluationHeld,
        BaselineKeys = _held.BaselineKeys,
        BaselineEvicted = _held.BaselineEvicted,
        Positions = ReplayPositions.PositionsOf(_trainer?.LastPositions() ?? []),
        Offsets = ReplayPositions.OffsetsOf(_trainer?.LastPositions() ?? []),
        Silo = local.SiloAddress.ToParsableString(),
    });

    public async Task<string> GetReportJsonAsync()
    {
        if (_report is not null) return TrainingReportJson.Serialize(_report);
        if (_trainer is null) throw new InvalidOperationException($"trainer {Key} has not started");
        // A report needs the trainer between steps: hold it at the boundary while reading.
        var wasPaused = _trainer.Gate.IsPaused;
        await _trainer.Gate.PauseAsync();
        try
        {
            return TrainingReportJson.Serialize(_trainer.CurrentReport());
        }
        finally
        {
            if (!wasPaused) _trainer.Gate.Resume();
        }
    }

    private async Task StartLoopAsync(JobSpec spec)
    {
        if (_loop is { IsCompleted: false }) return;
        var schema = SchemaLoader.Parse(spec.SchemaJson, $"job '{spec.Model}'");
        var (job, partition) = TrainerKey.Parse(Key);
        if (JobSpecRules.Strategy(spec.Strategy) is { } problem) throw new JobRequestException(problem);
        _ctr = Channel.CreateBounded<Sample>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _cvr = Channel.CreateBounded<Sample>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _store?.Dispose();
        _store = new ClusterParameterStore(grains, schema, spec.Model, job, Key, spec.Shards, soleTrainer: spec.Trainers == 1, instruments);
        _trainer = new StreamingTrainer(schema, _store, new TrainerOptions
        {
            Plan = spec.Strategy, MaxBatchWait = spec.MaxBatchWait, Window = spec.Window, Model = spec.Model, Job = job, Instruments = instruments,
        });
        // Step numbers go on from where this trainer left off, so a checkpoint's step counters stay monotonic.
        var dense = await grains.Dense(spec.Model).GetStatusAsync();
        var shards = await Task.WhenAll(grains.Shards(spec.Model, spec.Shards).Select(s => s.GetStatusAsync()));
        _trainer.Gate.StartAt(shards.Select(s => s.Steps.GetValueOrDefault(Key)).Append(dense.Steps.GetValueOrDefault(Key)).Max());
        _report = null;
        _error = null;
        _state = JobState.Running;
        // Counts of this run, like the new trainer's samples trained (a job created again under this name starts over).
        Interlocked.Exchange(ref _received, 0);
        _replay.Reset();
        Interlocked.Exchange(ref _rejected, 0);
        Interlocked.Exchange(ref _shed, 0);
        Interlocked.Exchange(ref _streamErrors, 0);
        _delivered.Clear();
        _held = Held.None;
        // What the trainer holds is read after each step (on the loop's thread, never while a step runs) for status.
        var held = _trainer;
        held.StepCompleted += _ =>
        {
            var (evaluation, keys, evicted) = held.Held();
            _held = new Held(evaluation, keys, evicted);
        };

        _raw = new RequestFeaturizer(schema);
        _tags = FreshetTags.Of(spec.Model, job);
        // Replayed (featurized) samples come on the main provider; plain JSON producers' on the samples hubs' providers (azure profile).
        foreach (var (stream, task) in Streams(spec)) await SubscribeAsync(stream, task == TaskKind.Ctr ? _ctr : _cvr, task);

        _stop = new CancellationTokenSource();
        var trainer = _trainer;
        var ctr = _ctr;
        var cvr = _cvr;
        var token = _stop.Token;
        _loop = Task.Run(async () =>
        {
            try
            {
                _report = await trainer.RunAsync(ctr.Reader, cvr.Reader, token);
                _state = JobState.Completed;
                LogCompleted(logger, Key, _report.Samples, _report.Steps);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                _state = JobState.Stopped;
            }
            catch (Exception e)
            {
                _error = e.Message;
                _state = JobState.Failed;
                LogFailed(logger, e, Key);
            }
            finally
            {
                // Deliveries waiting for room must not wait on a loop that has ended.
                ctr.Writer.TryComplete();
                cvr.Writer.TryComplete();
            }
        }, CancellationToken.None);
    }

    /// <summary>
    /// Gives a decoded sample its position and says whether to train it: not if the checkpoint this job was restored from
    /// holds it already (the producer replays from before it), which is counted.
    /// </summary>
    private bool Take(Sample sample, SampleBatch batch, int index, TaskKind task)
    {
        if (Clock.IsAhead(sample.Time))
        {
            // Ahead of this silo's clock by more than the skew allowed: it would move the job's event time there.
            var n = Interlocked.Increment(ref _timesRejected);
            Clock.Rejected(state.State.Spec?.Model ?? Key, "sample");
            if (n <= 100 || n % 1000 == 0) LogTimeRejected(logger, Key, batch.Origin ?? "?", n, Clock.MaxSkew);
            return false;
        }
        if (index < batch.Positions.Length)
        {
            sample.Position = batch.Positions[index];
            sample.Source = batch.Source;
            sample.SourceOffset = batch.SourceOffset;
        }
        return _replay.Take(sample, task, state.State.SkipThrough);
    }

    private async Task SubscribeAsync(IAsyncStream<SampleBatch> stream, Channel<Sample> channel, TaskKind task)
    {
        async Task OnNext(SampleBatch batch, StreamSequenceToken? token)
        {
            try
            {
                var taken = new List<Sample>(Math.Min(Math.Max(batch.Count, batch.Rows.Length), 4096)); // a count from the wire is a hint, never an allocation
                if (batch.Rows.Length > 0)
                {
                    Featurize(batch, task, taken);
                }
                else if (batch.Count > 0)
                {
                    var i = 0;
                    List<Sample> decoded;
                    try
                    {
                        decoded = SampleCodec.Decode(batch.Payload);
                    }
                    catch (InvalidDataException e)
                    {
                        // A producer's bad batch is dropped and counted, not thrown back into the stream (it would stall it).
                        Interlocked.Add(ref _rejected, batch.Count);
                        var n = Interlocked.Increment(ref _undecodable);
                        instruments.SamplesRejected.Add(batch.Count, _tags.With("hub", "trainer").With("reason", "decode"));
                        if (n <= 100 || n % 1000 == 0) LogBadBatch(logger, Key, batch.Origin ?? "?", n, e.Message);
                        return;
                    }
                    foreach (var s in decoded)
                    {
                        if (Take(s, batch, i++, task)) taken.Add(s);
                    }
                }
                Interlocked.Add(ref _received, await EnqueueAsync(channel.Writer, taken, batch, task));
                if (_replay.SkipListChanged)
                {
                    _replay.SkipListChanged = false;
                    await state.WriteStateAsync();
                }
                if (batch.EndOfStream) channel.Writer.TryComplete();
            }
            finally
            {
                // A publisher waits on what its own batches delivered (queued, shed, skipped or refused alike).
                if (batch.Producer != Guid.Empty) _delivered.Add(batch.Producer, Math.Max(0, batch.Count));
            }
        }

        Task OnError(Exception e)
        {
            // The stream skipped what it could not deliver (its cache no longer held it): those samples are lost to
            // training, so it is counted and said, never silent.
            var n = Interlocked.Increment(ref _streamErrors);
            instruments.SamplesRejected.Add(1, _tags.With("hub", "trainer").With("reason", "stream-error"));
            if (n <= 100 || n % 1000 == 0) LogStreamError(logger, e, Key, task.Name(), n);
            return Task.CompletedTask;
        }
        await StreamSubscriptions.ResumeOrSubscribeAsync(stream, OnNext, onError: OnError);
    }

    /// <summary>
    /// Puts a delivery's samples on its task's queue, waiting for room while it is full (the stream waits with it) for at
    /// most <see cref="ShedAfter"/>; what is left then, or once the loop has ended, is shed and counted. Returns the
    /// samples queued.
    /// </summary>
    private async Task<int> EnqueueAsync(ChannelWriter<Sample> writer, List<Sample> samples, SampleBatch batch, TaskKind task)
    {
        var queued = 0;
        long? since = null;
        foreach (var s in samples)
        {
            while (!writer.TryWrite(s))
            {
                since ??= System.Diagnostics.Stopwatch.GetTimestamp();
                var left = ShedAfter - System.Diagnostics.Stopwatch.GetElapsedTime(since.Value);
                var room = false;
                if (left > TimeSpan.Zero)
                {
                    using var wait = new CancellationTokenSource(left);
                    try
                    {
                        room = await writer.WaitToWriteAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (wait.IsCancellationRequested)
                    {
                    }
                }
                if (!room)
                {
                    var shed = samples.Count - queued;
                    var total = Interlocked.Add(ref _shed, shed);
                    instruments.SamplesRejected.Add(shed, _tags.With("hub", "trainer").With("reason", "queue-full"));
                    LogShed(logger, Key, shed, task.Name(), batch.Origin ?? "a stream", left > TimeSpan.Zero ? "the trainer has stopped" : $"its queue stayed full ({QueueCapacity:N0} samples) for {ShedAfter.TotalSeconds:F0} s", total);
                    return queued;
                }
            }
            queued++;
        }
        return queued;
    }

    /// <summary>
    /// Raw rows (plain JSON producers) featurized with this job's schema; a row the schema refuses (an unknown
    /// field, a number that is not one) is skipped, counted and logged with where it came from, never failing the job.
    /// </summary>
    private void Featurize(SampleBatch batch, TaskKind task, List<Sample> taken)
    {
        for (var at = 0; at < batch.Rows.Length; at++)
        {
            var row = batch.Rows[at];
            Sample sample;
            try
            {
                sample = _raw!.FeaturizeRow(row.Fields, row.Index, task, new DateTime(row.Time, DateTimeKind.Utc), row.Label);
            }
            catch (ArgumentException e)
            {
                var n = Interlocked.Increment(ref _rejected);
                instruments.SamplesRejected.Add(1, _tags.With("hub", "trainer").With("reason", "schema"));
                // The first bad rows in full, then one in a thousand: a producer out of step with the schema must not flood the log.
                if (n <= 100 || n % 1000 == 0) LogBadRow(logger, Key, batch.Origin ?? "?", row.Index, n, e.Message);
                continue;
            }
            if (!Take(sample, batch, at, task)) continue;
            taken.Add(sample);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer}: its {Task} sample stream delivered an error instead of a batch ({Count} so far): the samples in what it skipped never reach training")]
    private static partial void LogStreamError(ILogger logger, Exception error, string trainer, string task, long count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer {Trainer} finished its streams: {Samples} samples in {Steps} steps")]
    private static partial void LogCompleted(ILogger logger, string trainer, long samples, long steps);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} skipped a plain JSON sample ({Origin}, row {Row}; {Rejected} skipped so far): {Problem}; fix the producer's fields to match the job's schema")]
    private static partial void LogBadRow(ILogger logger, string trainer, string origin, int row, long rejected, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} shed {Shed} {Task} samples from {Origin}: {Why} ({Total} shed so far); the producers outrun training: add trainers (partitions) or slow the producers")]
    private static partial void LogShed(ILogger logger, string trainer, int shed, string task, string origin, string why, long total);

    /// <summary>What the trainer held after its latest step (replaced whole, so a status read sees one step's figures).</summary>
    private sealed record Held(long EvaluationHeld, long BaselineKeys, long BaselineEvicted)
    {
        public static readonly Held None = new(0, 0, 0);
    }

    private Held _held = Held.None;

    private long _timesRejected;
    private long _streamErrors;

    public Task<ProducerProgress> GetDeliveredAsync(Guid producer) =>
        Task.FromResult(new ProducerProgress(_delivered.Of(producer), _error));
    private long _undecodable;
    private WireClock? _clock;

    private WireClock Clock => _clock ??= ServiceProvider.GetRequiredService<WireClock>();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} dropped a sample from {Origin} whose time is more than {Skew} ahead of its clock ({Rejected} so far); fix the producer's clock")]
    private static partial void LogTimeRejected(ILogger logger, string trainer, string origin, long rejected, TimeSpan skew);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} dropped a sample batch from {Origin} that does not decode ({Batches} so far): {Problem}")]
    private static partial void LogBadBatch(ILogger logger, string trainer, string origin, long batches, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Trainer {Trainer} failed")]
    private static partial void LogFailed(ILogger logger, Exception error, string trainer);
}
