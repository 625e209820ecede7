using Freshet.Grains.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using Microsoft.Extensions.DependencyInjection;
using Freshet.Model.Telemetry;
using Freshet.Grains.Placement;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Freshet.Jobs;
using Freshet.Grains.Streaming;
using Freshet.Grains.Training;
using Freshet.Grains.Serving;
using Freshet.Model.Checkpoints;
using Freshet.Grains.Weights;
using Freshet.Model.Serving;
using Freshet.Model.Training;
using Orleans.Runtime;
using Freshet.Parameters;
using Microsoft.Extensions.Logging;

namespace Freshet.Grains.Jobs;

/// <summary>
/// Runs one job: validates and stores its spec, configures its shards and dense grain, starts its
/// trainers, and takes full checkpoints under the sync-send barrier (every trainer stopped at a
/// step boundary, so the rows, optimizer state, dense weights and batch-norm statistics written
/// are from the same steps).
/// </summary>
[AdminSilo]
public sealed partial class TrainingOrchestratorGrain(
    IGrainFactory grains,
    ICheckpointStore checkpoints,
    DeltaPublisher publisher,
    WeightsChannel weights,
    [PersistentState("job", FreshetNames.GrainStorage)] IPersistentState<OrchestratorState> state,
    [FromKeyedServices(FreshetNames.GrainStorage)] IGrainStorage storage,
    Serializer<UnsentDelta> unsentSerializer,
    FreshetInstruments instruments,
    IServiceProvider services,
    ILogger<TrainingOrchestratorGrain> logger) : Grain, ITrainingOrchestratorGrain
{
    private string Job => this.GetPrimaryKeyString();

    private JobCheckpoints? _checkpoints;

    /// <summary>How this job's checkpoints are written, and what is left of the ones storage cut short (<see cref="JobCheckpoints"/>).</summary>
    private JobCheckpoints Checkpoints => _checkpoints ??= new JobCheckpoints(Job, checkpoints, state, instruments, logger);

    /// <summary>The delta taken from the shards and not yet delivered, as persisted (<see cref="UnsentDeltaState"/>), so it survives a deactivation.</summary>
    private UnsentDeltaState? _unsent;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _unsent = new UnsentDeltaState(new ChunkedGrainState(storage, this.GetGrainId(), "unsent"), unsentSerializer, (e, weights) => LogUnsentNotPersisted(logger, e, Job, weights));
        if (await _unsent.ReadAsync(cancellationToken) is { } kept) Plan.Restore(kept);
    }

    public async Task<JobStatus> CreateAsync(JobSpec spec)
    {
        if (state.State.State is JobState.Running or JobState.Paused)
        {
            throw new JobRequestException($"job '{Job}' is {state.State.State.ToString().ToLowerInvariant()}; stop it before creating it again");
        }
        var schema = JobSpecValidation.Validate(spec);
        spec = spec with { Model = string.IsNullOrEmpty(spec.Model) ? schema.Name : spec.Model };
        if (spec.RestoreVersion is { } v)
        {
            var versions = await checkpoints.ListVersionsAsync(spec.Model);
            if (!versions.Contains(v))
            {
                throw new JobRequestException($"checkpoint version {v} of model '{spec.Model}' does not exist in {checkpoints.Location} (versions there: {(versions.Count == 0 ? "none" : string.Join(", ", versions))})");
            }
        }
        else if (spec.RestoreLatest && (await checkpoints.ListVersionsAsync(spec.Model)).Count == 0)
        {
            throw new JobRequestException($"job '{Job}' asks to restore the latest checkpoint of model '{spec.Model}', but {checkpoints.Location} has none");
        }
        state.State = new OrchestratorState { Spec = spec, State = JobState.Created };
        await state.WriteStateAsync();
        LogCreated(logger, Job, state.State.Spec.Model, spec.Strategy.Name(), spec.Shards, spec.Trainers);
        return await GetStatusAsync();
    }

    public async Task<JobStatus> StartAsync()
    {
        var spec = Spec();
        if (state.State.State == JobState.Running) return await GetStatusAsync();
        await ConfigureShardsAsync(spec);
        await Task.WhenAll(Shards(spec).Select(s => s.SetFrozenLockAsync(Job, spec.LockFrozen)));
        if (state.State.State == JobState.Created)
        {
            (IReadOnlyDictionary<string, long> Positions, CheckpointManifest Manifest)? positions = null;
            if (spec.RestoreVersion is not null || spec.RestoreLatest)
            {
                var version = spec.RestoreVersion ?? (await checkpoints.ListVersionsAsync(spec.Model))[^1];
                await Task.WhenAll(Shards(spec).Select(s => s.LoadCheckpointAsync(version)).Append(Dense(spec).LoadCheckpointAsync(version)));
                positions = await Checkpoints.PositionsOfAsync(spec, spec.Model, version);
                LogRestored(logger, Job, spec.Model, version);
            }
            // A new job skips nothing; a restored one skips what its checkpoint holds of a replayed stream.
            await SampleResume.ResumeAsync(Job, Trainers(spec), positions, services.GetService<SampleHubRewinder>(), logger);
        }
        await Task.WhenAll(Trainers(spec).Select(t => t.StartAsync(spec)));
        state.State.State = JobState.Running;
        state.State.Error = null;
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    private async Task ConfigureShardsAsync(JobSpec spec)
    {
        var config = new ShardConfig { Model = spec.Model, SchemaJson = spec.SchemaJson, Shards = spec.Shards, PersistInterval = spec.PersistInterval };
        await Task.WhenAll(Shards(spec).Select((s, i) => s.ConfigureAsync(config with { Shard = i })));
        await Dense(spec).ConfigureAsync(config);
    }

    public async Task<JobStatus> PauseAsync()
    {
        var spec = Spec();
        await Task.WhenAll(Trainers(spec).Select(t => t.PauseAsync()));
        state.State.State = JobState.Paused;
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public async Task<JobStatus> ResumeAsync()
    {
        var spec = Spec();
        await Task.WhenAll(Trainers(spec).Select(t => t.ResumeAsync()));
        state.State.State = JobState.Running;
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public async Task<JobStatus> StopAsync()
    {
        var spec = Spec();
        await Task.WhenAll(Trainers(spec).Select(t => t.StopAsync()));
        await Task.WhenAll(Shards(spec).Select(s => s.PersistAsync()).Append(Dense(spec).PersistAsync()));
        state.State.State = JobState.Stopped;
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public Task<CheckpointResult> CheckpointAsync() => CheckpointCoreAsync(announce: false);

    public Task<CheckpointResult> PublishCheckpointAsync() => CheckpointCoreAsync(announce: true);

    public async Task<PublishResult> PublishAsync()
    {
        var spec = Spec();
        // A delta taken from the shards that storage or the stream refused last time: its rows are no longer in any
        // shard's change set, so it goes out first, under its own number, before anything new is taken.
        if (await Plan.FirstAsync(state.State.Published) is { } unsent) return await DeliverAsync(spec, unsent);
        if (state.State.Published is null)
        {
            // Deltas need a base serving has: the first publish of a job writes and announces one.
            await CheckpointCoreAsync(announce: true);
        }
        WeightsVersion version;
        try
        {
            version = await Plan.NextAsync(state.State.Published!.Value);
        }
        catch (Exception e) when (e is not JobRequestException)
        {
            throw PublishFailed(spec, null, "listing the retained deltas", e, kept: false);
        }
        ShardDelta[] parts;
        IReadOnlyList<DenseTowerState> dense;
        TrainerStatus[] statuses;
        DateTime snapshot;
        var barrier = await HoldTrainersAsync(spec);
        await using (barrier)
        {
            snapshot = DateTime.UtcNow;
            var budget = Math.Max(0, spec.FreshRowBudget) / Math.Max(1, spec.Shards);
            parts = await Task.WhenAll(Shards(spec).Select(s => s.TakeDeltaAsync(budget)));
            dense = await Dense(spec).PullAsync(-1, -1);
            statuses = await Task.WhenAll(Trainers(spec).Select(t => t.GetStatusAsync()));
        }
        var pauseMs = barrier.Held.TotalMilliseconds;

        // Encoded once: the shards' parts as they encoded them, framed with the dense towers.
        var encoded = WeightDelta.Frame(spec.Served, version, snapshot, statuses.Select(s => s.EventTime).Max(),
            [.. parts.Select(p => p.Payload)], [.. dense.Select(d => new DenseTowerWeights(d.Task, Bytes.ToArray<float>(d.Parameters), d.Buffers))]);
        var tags = FreshetTags.Of(spec.Served, Job);
        instruments.BarrierPause.Record(pauseMs, tags.With("action", "publish"));
        return await DeliverAsync(spec, new UnsentDelta
        {
            Encoded = encoded,
            Result = new PublishResult
            {
                Model = spec.Served, Weights = version, Bytes = encoded.Length,
                ChangingRows = parts.Sum(p => (long)p.ChangingRows), FreshRows = parts.Sum(p => (long)p.FreshRows), FreshPending = parts.Sum(p => (long)p.FreshPending),
                SnapshotUtc = snapshot, BarrierPauseMs = pauseMs,
            },
        });
    }

    private PublishPlan? _plan;

    /// <summary>How this job's deltas are delivered, and the one not yet delivered (<see cref="PublishPlan"/>).</summary>
    private PublishPlan Plan => _plan ??= new PublishPlan(new JobDeltaSteps(this, () => Spec().Served, publisher, state, delta => _unsent!.KeepAsync(delta)));

    /// <summary>Delivers a taken delta (<see cref="PublishPlan.DeliverAsync"/>); a step that fails is said, and the delta kept for the next publish.</summary>
    private async Task<PublishResult> DeliverAsync(JobSpec spec, UnsentDelta delta)
    {
        try
        {
            var result = await Plan.DeliverAsync(delta);
            var tags = FreshetTags.Of(spec.Served, Job);
            instruments.PublishBytes.Add(delta.Encoded.Length, tags);
            instruments.PublishRows.Add(delta.Result.ChangingRows + delta.Result.FreshRows, tags);
            return result with { SendMs = (DateTime.UtcNow - delta.Result.SnapshotUtc).TotalMilliseconds };
        }
        catch (DeltaNotDeliveredException e)
        {
            throw PublishFailed(spec, e.Version, DeltaNotDeliveredException.Describe(e.Stage), e.InnerException!, kept: true);
        }
    }

    private PublishFailedException PublishFailed(JobSpec spec, WeightsVersion? version, string stage, Exception e, bool kept)
    {
        var message = $"delta {(version is { } v ? $"{v} " : "")}of model '{spec.Served}' was not published: {stage} failed ({StorageFailures.Describe(e)}). " +
            (kept ? "It is kept and goes out first, with the same number, on the next publish; " : "Nothing was taken from the shards; ") +
            $"serving stays on {(state.State.Published is { } p ? p.ToString() : "what it has")} meanwhile, and training goes on.";
        instruments.PublishFailures.Add(1, FreshetTags.Of(spec.Served, Job).With("stage", stage));
        LogPublishFailed(logger, e, Job, spec.Served, stage);
        return new PublishFailedException(message);
    }

    public async Task<JobStatus> RestoreAsync(long version, string fromModel)
    {
        var spec = Spec();
        await using (await HoldTrainersAsync(spec))
        {
            // Configured first (a no-op for a shard that is): one whose state could not be read activated empty and unconfigured.
            await ConfigureShardsAsync(spec);
            await Task.WhenAll(Shards(spec).Select(s => s.LoadCheckpointAsync(version, fromModel)).Append(Dense(spec).LoadCheckpointAsync(version, fromModel)));
            await Plan.DropAsync(); // taken from the weights just replaced
            var positions = await Checkpoints.PositionsOfAsync(spec, fromModel, version);
            await SampleResume.ResumeAsync(Job, Trainers(spec), positions, services.GetService<SampleHubRewinder>(), logger);
            if (fromModel == spec.Served)
            {
                state.State.Published = new WeightsVersion(version);
            }
            await state.WriteStateAsync();
            LogRestored(logger, Job, fromModel, version);
        }
        return await GetStatusAsync();
    }

    public async Task<JobStatus> RollbackAsync(long version)
    {
        var spec = Spec();
        var versions = await checkpoints.ListVersionsAsync(spec.Served);
        if (!versions.Contains(version))
        {
            throw new JobRequestException($"checkpoint version {version} of model '{spec.Served}' does not exist in {checkpoints.Location} (versions there: {(versions.Count == 0 ? "none" : string.Join(", ", versions))})");
        }
        // The deltas retained on that version belong to the line being abandoned.
        await checkpoints.DeleteFilesAsync(spec.Served, version, CheckpointFiles.DeltaPrefix);
        await RestoreAsync(version, spec.Served);
        await AnnounceAsync(spec.Served, WeightMessageKind.Rollback, version);
        LogRolledBack(logger, Job, spec.Served, version);
        return await GetStatusAsync();
    }

    /// <summary>
    /// Tells serving to move to a committed checkpoint. Both calls are idempotent per version (a replica already on that
    /// checkpoint does not load it again), so they are retried through a silo failure: a killed silo's calls fail until the
    /// cluster declares it dead and its grains come back elsewhere, and a committed checkpoint must still be announced.
    /// </summary>
    private async Task AnnounceAsync(string served, WeightMessageKind kind, long version)
    {
        var serving = grains.GetGrain<IServingVersionGrain>(served);
        await Retry.CallAsync(() => serving.SetAsync(version), CancellationToken.None);
        await Retry.CallAsync(() => weights.AnnounceAsync(this, served, kind, new WeightsVersion(version)), CancellationToken.None);
    }

    private async Task<CheckpointResult> CheckpointCoreAsync(bool announce)
    {
        var spec = Spec();
        var trainers = Trainers(spec);
        var clock = Stopwatch.StartNew();
        await using (var barrier = await HoldTrainersAsync(spec))
        {
            var (version, manifest, stepMap) = await Checkpoints.WriteAsync(spec, barrier.Steps, Shards(spec), Dense(spec), trainers, rebase: announce, release: barrier.DisposeAsync);
            // Committed: the trainers go on while old versions are pruned and serving is told (the announcement may wait
            // out a silo failure). A failed release is thrown once the checkpoint is recorded and announced.
            ExceptionDispatchInfo? releaseFailed = null;
            try
            {
                await barrier.DisposeAsync();
            }
            catch (Exception e)
            {
                releaseFailed = ExceptionDispatchInfo.Capture(e);
            }
            await Checkpoints.CleanUpAsync(spec, () => NeededVersionsAsync(spec, announce ? version : null));
            if (announce)
            {
                // Serving switches to this version; this job's deltas build on it from now on.
                state.State.Published = new WeightsVersion(version);
                await Plan.DropAsync(); // its rows are in this checkpoint
                await AnnounceAsync(spec.Model, WeightMessageKind.Checkpoint, version);
            }
            var pauseMs = barrier.Held.TotalMilliseconds;
            var tags = FreshetTags.Of(spec.Model, Job);
            instruments.BarrierPause.Record(pauseMs, tags.With("action", "checkpoint"));
            instruments.CheckpointDuration.Record(clock.Elapsed.TotalMilliseconds, tags);
            instruments.CheckpointBytes.Add(manifest.Files.Sum(f => f.Bytes), tags);
            state.State.LastCheckpoint = version;
            state.State.LastCheckpointTime = DateTime.UtcNow;
            state.State.LastBarrierPauseMs = pauseMs;
            await state.WriteStateAsync();
            LogCheckpoint(logger, Job, spec.Model, version, pauseMs);
            releaseFailed?.Throw();
            return new CheckpointResult { Model = spec.Model, Version = version, Steps = stepMap, BarrierPauseMs = pauseMs, Bytes = manifest.Files.Sum(f => f.Bytes) };
        }
    }

    /// <summary>
    /// The versions of this job's model that must outlive pruning however old: the one serving follows (and the one about to
    /// be announced), the guard's good weights (replicas' shadow copy) and its rollback ceiling, and the base of this
    /// job's deltas. Model B serves on Model A's checkpoint, which is A's announced version while B runs.
    /// </summary>
    private async Task<IReadOnlySet<long>> NeededVersionsAsync(JobSpec spec, long? announcing)
    {
        var serving = grains.GetGrain<IServingVersionGrain>(spec.Model);
        var marks = await serving.GetGuardAsync();
        var needed = new HashSet<long>();
        foreach (var v in new[] { await serving.GetAsync(), announcing, marks.Good?.Checkpoint, marks.Halt?.Checkpoint, state.State.Published?.Checkpoint })
        {
            if (v is { } version) needed.Add(version);
        }
        return needed;
    }

    /// <summary>Holds the job's trainers at a step boundary; released on dispose, left paused if an operator paused the job meanwhile.</summary>
    private Task<TrainerBarrier> HoldTrainersAsync(JobSpec spec) =>
        TrainerBarrier.HoldAsync(Trainers(spec), () => state.State.State != JobState.Paused);

    public async Task<JobStatus> GetStatusAsync()
    {
        var spec = state.State.Spec;
        var trainers = spec is null ? [] : await Task.WhenAll(Trainers(spec).Select(t => t.GetStatusAsync()));
        var jobState = state.State.State;
        if (jobState == JobState.Running && trainers.Length > 0 && trainers.All(t => t.Completed)) jobState = JobState.Completed;
        if (trainers.Any(t => t.State == JobState.Failed)) jobState = JobState.Failed;
        return new JobStatus
        {
            Job = Job,
            State = jobState,
            Spec = spec,
            LastCheckpoint = state.State.LastCheckpoint,
            LastCheckpointTime = state.State.LastCheckpointTime,
            LastBarrierPauseMs = state.State.LastBarrierPauseMs,
            Published = state.State.Published,
            LastPublishUtc = state.State.LastPublishUtc,
            LastCheckpointError = Checkpoints.LastError,
            LastCheckpointErrorTime = Checkpoints.LastErrorTime,
            Trainers = trainers,
            Error = state.State.Error ?? trainers.FirstOrDefault(t => t.Error is not null)?.Error,
        };
    }

    private JobSpec Spec() => state.State.Spec ?? throw new JobRequestException($"job '{Job}' does not exist; create it first");

    private IEnumerable<IEmbeddingShardGrain> Shards(JobSpec spec) =>
        grains.Shards(spec.Model, spec.Shards);

    private IDenseGrain Dense(JobSpec spec) => grains.Dense(spec.Model);

    private List<ITrainerGrain> Trainers(JobSpec spec) =>
        [.. grains.Trainers(Job, spec.Trainers)];

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} created: model {Model}, strategy {Strategy}, {Shards} shards, {Trainers} trainers")]
    private static partial void LogCreated(ILogger logger, string job, string model, string strategy, int shards, int trainers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} restored model {Model} from checkpoint version {Version}")]
    private static partial void LogRestored(ILogger logger, string job, string model, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} rolled serving of {Model} back to version {Version}")]
    private static partial void LogRolledBack(ILogger logger, string job, string model, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job}: a delta of {Model} was not published while {Stage}; it is kept for the next publish")]
    private static partial void LogPublishFailed(ILogger logger, Exception error, string job, string model, string stage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not keep its unsent delta ({Weights}) in grain state: it goes out first on the next publish unless this activation ends first")]
    private static partial void LogUnsentNotPersisted(ILogger logger, Exception error, string job, string weights);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} wrote checkpoint {Model} version {Version}; trainers held {PauseMs} ms")]
    private static partial void LogCheckpoint(ILogger logger, string job, string model, long version, double pauseMs);
}
