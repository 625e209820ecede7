using Freshet.Grains.Placement;
using System.Threading.Channels;
using Freshet.Jobs;
using Freshet.Grains.Streaming;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Telemetry;
using Freshet.Model.Training;
using Freshet.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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

    public Task<TrainerStatus> GetStatusAsync()
    {
        var (positions, offsets) = ReplayPositions.KeyedOf(_trainer?.LastPositions() ?? []);
        return Task.FromResult(new TrainerStatus
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
            Positions = positions,
            Offsets = offsets,
            Silo = local.SiloAddress.ToParsableString(),
        });
    }

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer {Trainer} finished its streams: {Samples} samples in {Steps} steps")]
    private static partial void LogCompleted(ILogger logger, string trainer, long samples, long steps);

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

    [LoggerMessage(Level = LogLevel.Error, Message = "Trainer {Trainer} failed")]
    private static partial void LogFailed(ILogger logger, Exception error, string trainer);
}
