using Freshet.Grains.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using Freshet.Grains.Streaming;
using Freshet.Grains.Training;
using Microsoft.Extensions.DependencyInjection;
using Freshet.Model.Telemetry;
using Freshet.Grains.Placement;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using Freshet.Grains.Checkpoints;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;
using Freshet.Grains.Serving;
using Freshet.Grains.Weights;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Serving;
using Freshet.Model.Training;
using Freshet.Serving;
using Orleans.Runtime;
using Orleans.Streams;
using Freshet.Parameters;
using Freshet.Samples;
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

    /// <summary>The last checkpoint attempt's failure, until one succeeds (in memory: storage may be what failed).</summary>
    private string? _checkpointError;
    private DateTime? _checkpointErrorTime;

    /// <summary>The delta taken from the shards and not yet delivered, as persisted (chunked: it can be megabytes), so it survives a deactivation.</summary>
    private ChunkedGrainState? _unsentState;
    private bool _unsentPersisted;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _unsentState = new ChunkedGrainState(storage, this.GetGrainId(), "unsent");
        if (await _unsentState.ReadAsync(cancellationToken) is { Length: > 0 } bytes && unsentSerializer.Deserialize(bytes) is { } kept)
        {
            Plan.Restore(kept);
            _unsentPersisted = true;
        }
    }

    /// <summary>
    /// Keeps (or, with null, drops) the delta not yet delivered, in memory and in grain state. Storage that fails here (the
    /// outage the publish met, most likely) leaves it in memory only, which is said in the log.
    /// </summary>
    private async Task KeepUnsentAsync(UnsentDelta? delta)
    {
        if (delta is null && !_unsentPersisted) return;
        try
        {
            await _unsentState!.WriteAsync(delta is null ? [] : unsentSerializer.SerializeToArray(delta));
            _unsentPersisted = delta is not null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnsentNotPersisted(logger, e, Job, delta?.Result.Weights.ToString() ?? "none");
        }
    }

    public async Task<JobStatus> CreateAsync(JobSpec spec)
    {
        if (state.State.State is JobState.Running or JobState.Paused)
        {
            throw new JobRequestException($"job '{Job}' is {state.State.State.ToString().ToLowerInvariant()}; stop it before creating it again");
        }
        var schema = Validate(spec);
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
                positions = await PositionsOfAsync(spec, spec.Model, version);
                LogRestored(logger, Job, spec.Model, version);
            }
            // A new job skips nothing; a restored one skips what its checkpoint holds of a replayed stream.
            await SkipThroughAsync(spec, positions?.Positions);
            if (positions is not null) await RewindHubsAsync(positions.Value.Manifest);
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
    private PublishPlan Plan => _plan ??= new PublishPlan(new JobDeltaSteps(this, publisher, state));

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

    /// <summary>The job's storage, state and weights stream as a delivery's steps.</summary>
    private sealed class JobDeltaSteps(TrainingOrchestratorGrain job, DeltaPublisher publisher, IPersistentState<OrchestratorState> state) : IDeltaSteps
    {
        public Task<WeightsVersion> NextAsync(WeightsVersion published) => publisher.NextAsync(job.Spec().Served, published);

        public Task RetainAsync(WeightsVersion version, byte[] encoded) => publisher.RetainAsync(job.Spec().Served, version, encoded);

        public async Task RecordAsync(WeightsVersion version, DateTime snapshotUtc)
        {
            state.State.Published = version;
            state.State.LastPublishUtc = snapshotUtc;
            await state.WriteStateAsync();
        }

        public Task<int> SendAsync(WeightsVersion version, byte[] encoded, DateTime snapshotUtc) =>
            publisher.SendAsync(job, job.Spec().Served, version, encoded, snapshotUtc);

        public Task KeepAsync(UnsentDelta? delta) => job.KeepUnsentAsync(delta);
    }

    private PublishFailedException PublishFailed(JobSpec spec, WeightsVersion? version, string stage, Exception e, bool kept)
    {
        var message = $"delta {(version is { } v ? $"{v} " : "")}of model '{spec.Served}' was not published: {stage} failed ({Describe(e)}). " +
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
            var positions = await PositionsOfAsync(spec, fromModel, version);
            await SkipThroughAsync(spec, positions?.Positions);
            if (positions is not null) await RewindHubsAsync(positions.Value.Manifest);
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
        var keys = Enumerable.Range(0, spec.Trainers).Select(p => new TrainerKey(Job, p).ToString()).ToList();
        var clock = Stopwatch.StartNew();
        await using (var barrier = await HoldTrainersAsync(spec))
        {
            var steps = barrier.Steps;
            long? version = null;
            var stage = "reserving a version number";
            CheckpointManifest manifest;
            Dictionary<string, long> stepMap;
            try
            {
                version = await checkpoints.NextVersionAsync(spec.Model);
                stage = "writing the shards' files";
                var shardFiles = await Task.WhenAll(Shards(spec).Select(s => s.WriteCheckpointAsync(version.Value, rebase: announce)));
                stage = "writing the dense tier's file";
                var denseFile = await Dense(spec).WriteCheckpointAsync(version.Value);
                stage = "writing the schema";
                var writer = CheckpointWriter.ForVersion(checkpoints, spec.Model, version.Value);
                await writer.AddFileAsync(CheckpointFiles.Schema, "schema", s => s.Write(Encoding.UTF8.GetBytes(spec.SchemaJson)));
                foreach (var f in shardFiles.SelectMany(f => f).Append(denseFile)) writer.AddWritten(f.FromWire());
                var statuses = await Task.WhenAll(trainers.Select(t => t.GetStatusAsync()));
                stepMap = keys.Zip(steps).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
                stage = "committing the manifest";
                // Per sample stream, the last sample whose effect this holds: a job restored from it resumes after it.
                var positions = new Dictionary<string, long>(StringComparer.Ordinal);
                var offsets = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var p = 0; p < statuses.Length; p++)
                {
                    foreach (var (key, position) in statuses[p].Positions) positions[$"{p}/{key}"] = position;
                    foreach (var (key, offset) in statuses[p].Offsets) offsets[$"{p}/{key}"] = offset;
                }
                manifest = await writer.CommitAsync(statuses.Select(s => s.EventTime).Max(), statuses.Sum(s => s.SamplesTrained), spec.Strategy.Name(), stepMap, positions: positions, offsets: offsets);
            }
            catch (Exception e) when (e is not JobRequestException)
            {
                var failed = CheckpointFailed(spec, version, stage, e);
                if (version is { } reserved)
                {
                    // The trainers go on first: removing the leftovers may wait out the same storage failure.
                    await barrier.DisposeAsync();
                    await AbandonAsync(spec, reserved);
                }
                throw failed;
            }
            _checkpointError = null;
            _checkpointErrorTime = null;
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
            try
            {
                // Versions that failed before: whatever of them storage kept (the reservation, partial files) goes now.
                foreach (var abandoned in state.State.Abandoned.ToList()) await AbandonAsync(spec, abandoned);
                await CheckpointWriter.PruneAsync(checkpoints, spec.Model, spec.KeepCheckpoints, await NeededVersionsAsync(spec, announce ? version.Value : null));
            }
            catch (Exception e)
            {
                // The new version is committed; old ones are pruned on the next checkpoint.
                LogPruneFailed(logger, e, Job, spec.Model);
            }
            if (announce)
            {
                // Serving switches to this version; this job's deltas build on it from now on.
                state.State.Published = new WeightsVersion(version.Value);
                await Plan.DropAsync(); // its rows are in this checkpoint
                await AnnounceAsync(spec.Model, WeightMessageKind.Checkpoint, version.Value);
            }
            var pauseMs = barrier.Held.TotalMilliseconds;
            var tags = FreshetTags.Of(spec.Model, Job);
            instruments.BarrierPause.Record(pauseMs, tags.With("action", "checkpoint"));
            instruments.CheckpointDuration.Record(clock.Elapsed.TotalMilliseconds, tags);
            instruments.CheckpointBytes.Add(manifest.Files.Sum(f => f.Bytes), tags);
            state.State.LastCheckpoint = version.Value;
            state.State.LastCheckpointTime = DateTime.UtcNow;
            state.State.LastBarrierPauseMs = pauseMs;
            await state.WriteStateAsync();
            LogCheckpoint(logger, Job, spec.Model, version.Value, pauseMs);
            releaseFailed?.Throw();
            return new CheckpointResult { Model = spec.Model, Version = version.Value, Steps = stepMap, BarrierPauseMs = pauseMs, Bytes = manifest.Files.Sum(f => f.Bytes) };
        }
    }

    /// <summary>
    /// Removes what a checkpoint that was not committed left in the store (its reserved number, the files written before it
    /// failed; never visible, since it has no manifest). If storage refuses now (it is most likely what failed), the version
    /// is remembered and removed after the next checkpoint that commits.
    /// </summary>
    private async Task AbandonAsync(JobSpec spec, long version)
    {
        try
        {
            await checkpoints.DeleteVersionAsync(spec.Model, version);
            if (state.State.Abandoned.Remove(version)) await state.WriteStateAsync();
            LogAbandonedRemoved(logger, Job, spec.Model, version);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (!state.State.Abandoned.Contains(version)) state.State.Abandoned.Add(version);
            LogAbandonedKept(logger, Job, spec.Model, version, Describe(e));
            try
            {
                await state.WriteStateAsync();
            }
            catch (Exception stateFailed) when (stateFailed is not OperationCanceledException)
            {
                // Grain state is down too: the version is remembered in memory until this activation ends.
            }
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

    /// <summary>
    /// A checkpoint that storage cut short, said plainly: which version and step, what storage answered, and that nothing of
    /// it is visible (no manifest), so readers and serving stay on the previous version while training goes on.
    /// </summary>
    private CheckpointFailedException CheckpointFailed(JobSpec spec, long? version, string stage, Exception e)
    {
        var previous = state.State.LastCheckpoint is { } last ? $"version {last} stays the latest" : "the model has no checkpoint yet";
        var message = $"checkpoint {(version is { } v ? $"version {v} " : "")}of model '{spec.Model}' was not committed: {stage} in {checkpoints.Location} failed " +
            $"({Describe(e)}). No manifest was written, so nothing of it is visible: {previous}, serving stays where it is, " +
            "and training goes on; what it wrote is removed. Check that the checkpoint storage is reachable, then checkpoint again.";
        _checkpointError = message;
        _checkpointErrorTime = DateTime.UtcNow;
        instruments.CheckpointFailures.Add(1, FreshetTags.Of(spec.Model, Job).With("stage", stage));
        LogCheckpointFailed(logger, e, Job, spec.Model, version, stage);
        return new CheckpointFailedException(message);
    }

    /// <summary>What storage answered, in one line: the storage client's retries say how many and what the last one got.</summary>
    private static string Describe(Exception e)
    {
        var cause = e.GetBaseException();
        if (cause is AggregateException { InnerExceptions.Count: > 0 } tries)
        {
            var lastTry = tries.InnerExceptions[^1].GetBaseException();
            return $"{tries.InnerExceptions.Count} tries, the last: {lastTry.GetType().Name}: {FirstLine(lastTry.Message)}";
        }
        return $"{cause.GetType().Name}: {FirstLine(cause.Message)}";
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>
    /// The sample stream positions a checkpoint holds, if it recorded them for as many partitions as this job has
    /// (samples go to partitions by a hash of their key modulo the partition count, so another count maps differently).
    /// </summary>
    private async Task<(IReadOnlyDictionary<string, long> Positions, CheckpointManifest Manifest)?> PositionsOfAsync(JobSpec spec, string model, long version)
    {
        var manifest = (await CheckpointReader.OpenAsync(checkpoints, model, version, verify: false)).Manifest;
        if (manifest.Positions is not { Count: > 0 } positions) return null;
        var partitions = manifest.Steps?.Count ?? 0; // one step counter per trainer of the job that wrote it
        if (partitions != spec.Trainers)
        {
            LogPositionsUnused(logger, Job, model, version, partitions, spec.Trainers);
            return null;
        }
        return (positions, manifest);
    }

    /// <summary>
    /// Where the checkpoint holds samples of Event Hubs partitions, has those partitions read again from its resume
    /// offsets (azure profile); elsewhere the producer replays (freshet replay), and a source that cannot replay loses
    /// what came after the checkpoint (docs/RELIABILITY.md).
    /// </summary>
    private async Task RewindHubsAsync(CheckpointManifest manifest)
    {
        var resume = manifest.ResumeOffsets();
        if (resume.Count == 0) return;
        if (services.GetService<SampleHubRewinder>() is not { } rewinder)
        {
            LogNoRewinder(logger, Job, manifest.Model, manifest.Version, string.Join(", ", resume.Select(kv => $"{kv.Key} at {kv.Value}")));
            return;
        }
        var done = await rewinder.RewindAsync(resume);
        LogHubsRewound(logger, Job, manifest.Model, manifest.Version, string.Join("; ", done));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} restored {Model} version {Version}: samples hubs read again: {Done}")]
    private static partial void LogHubsRewound(ILogger logger, string job, string model, long version, string done);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} restored {Model} version {Version}, which holds Event Hubs samples up to {Offsets}, but this silo reads no samples hubs: replay those partitions from there")]
    private static partial void LogNoRewinder(ILogger logger, string job, string model, long version, string offsets);

    /// <summary>Tells each trainer which samples of its streams to skip (none when <paramref name="positions"/> is null).</summary>
    private Task SkipThroughAsync(JobSpec spec, IReadOnlyDictionary<string, long>? positions) =>
        Task.WhenAll(Trainers(spec).Select((t, p) =>
        {
            var mine = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (manifestKey, position) in positions ?? new Dictionary<string, long>())
            {
                if (SampleStreams.TrySplitPositionKey(manifestKey, out var partition, out var key) && partition == p) mine[key] = position;
            }
            return t.SkipThroughAsync(mine);
        }));

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
            LastCheckpointError = _checkpointError,
            LastCheckpointErrorTime = _checkpointErrorTime,
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

    private static FeatureSchema Validate(JobSpec spec)
    {
        FeatureSchema schema;
        try
        {
            schema = SchemaLoader.Parse(spec.SchemaJson, $"job schema");
        }
        catch (SchemaException e)
        {
            throw new JobRequestException(e.Message);
        }
        if (JobSpecRules.Problems(spec) is { Count: > 0 } problems)
        {
            throw new JobRequestException(string.Join("; ", problems));
        }
        return schema;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} created: model {Model}, strategy {Strategy}, {Shards} shards, {Trainers} trainers")]
    private static partial void LogCreated(ILogger logger, string job, string model, string strategy, int shards, int trainers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} restored model {Model} from checkpoint version {Version}")]
    private static partial void LogRestored(ILogger logger, string job, string model, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} rolled serving of {Model} back to version {Version}")]
    private static partial void LogRolledBack(ILogger logger, string job, string model, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job}: checkpoint of {Model} (version {Version}) not committed while {Stage}; training goes on")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception error, string job, string model, long? version, string stage);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job}: a delta of {Model} was not published while {Stage}; it is kept for the next publish")]
    private static partial void LogPublishFailed(ILogger logger, Exception error, string job, string model, string stage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: pruning old checkpoints of {Model} failed; the new one is committed, pruning is tried again next time")]
    private static partial void LogPruneFailed(ILogger logger, Exception error, string job, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: checkpoint {Model} version {Version} holds stream positions of {Partitions} partitions, the job has {Trainers}; nothing is skipped, so a replay from before it trains those samples again")]
    private static partial void LogPositionsUnused(ILogger logger, string job, string model, long version, int partitions, int trainers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not keep its unsent delta ({Weights}) in grain state: it goes out first on the next publish unless this activation ends first")]
    private static partial void LogUnsentNotPersisted(ILogger logger, Exception error, string job, string weights);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} removed what the uncommitted checkpoint {Version} of model {Model} left in the store")]
    private static partial void LogAbandonedRemoved(ILogger logger, string job, string model, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not yet remove what the uncommitted checkpoint {Version} of model {Model} left in the store ({Reason}); it is removed after the next checkpoint that commits")]
    private static partial void LogAbandonedKept(ILogger logger, string job, string model, long version, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} wrote checkpoint {Model} version {Version}; trainers held {PauseMs} ms")]
    private static partial void LogCheckpoint(ILogger logger, string job, string model, long version, double pauseMs);
}
