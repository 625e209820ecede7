using System.Text;
using Freshet.Grains.Checkpoints;
using Freshet.Model.Training;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Telemetry;
using Freshet.Parameters;
using Microsoft.Extensions.Logging;

namespace Freshet.Grains.Jobs;

/// <summary>
/// A job's full checkpoints in its store: writes one version (the shards' files, the dense tier's, the schema, then the
/// manifest with the trainers' steps and stream positions), says plainly why one was not committed, removes what an
/// uncommitted one left (now, or after the next commit when storage still refuses), prunes old versions, and reads the
/// stream positions a version holds. The orchestrator holds the trainers under the barrier around <see cref="WriteAsync"/>.
/// </summary>
internal sealed partial class JobCheckpoints(string job, ICheckpointStore store, IPersistentState<OrchestratorState> state, FreshetInstruments instruments, ILogger logger)
{
    /// <summary>The last attempt's failure, until one commits (in memory: storage may be what failed).</summary>
    public string? LastError { get; private set; }

    public DateTime? LastErrorTime { get; private set; }

    /// <summary>
    /// Writes and commits a new version from the held trainers' <paramref name="steps"/>. On failure the trainers are let go
    /// (<paramref name="release"/>) before what was written is removed, and a <see cref="CheckpointFailedException"/> says what failed.
    /// </summary>
    public async Task<(long Version, CheckpointManifest Manifest, Dictionary<string, long> Steps)> WriteAsync(
        JobSpec spec, IReadOnlyList<long> steps, IEnumerable<IEmbeddingShardGrain> shards, IDenseGrain dense, IReadOnlyList<ITrainerGrain> trainers,
        bool rebase, Func<ValueTask> release)
    {
        long? version = null;
        var stage = "reserving a version number";
        try
        {
            version = await store.NextVersionAsync(spec.Model);
            stage = "writing the shards' files";
            var shardFiles = await Task.WhenAll(shards.Select(s => s.WriteCheckpointAsync(version.Value, rebase)));
            stage = "writing the dense tier's file";
            var denseFile = await dense.WriteCheckpointAsync(version.Value);
            stage = "writing the schema";
            var writer = CheckpointWriter.ForVersion(store, spec.Model, version.Value);
            await writer.AddFileAsync(CheckpointFiles.Schema, "schema", s => s.Write(Encoding.UTF8.GetBytes(spec.SchemaJson)));
            foreach (var f in shardFiles.SelectMany(f => f).Append(denseFile)) writer.AddWritten(f.FromWire());
            var statuses = await Task.WhenAll(trainers.Select(t => t.GetStatusAsync()));
            var keys = Enumerable.Range(0, spec.Trainers).Select(p => new TrainerKey(job, p).ToString());
            var stepMap = keys.Zip(steps).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
            stage = "committing the manifest";
            // Per sample stream, the last sample whose effect this holds: a job restored from it resumes after it.
            var positions = new Dictionary<string, long>(StringComparer.Ordinal);
            var offsets = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var p = 0; p < statuses.Length; p++)
            {
                foreach (var (key, position) in statuses[p].Positions) positions[$"{p}/{key}"] = position;
                foreach (var (key, offset) in statuses[p].Offsets) offsets[$"{p}/{key}"] = offset;
            }
            var manifest = await writer.CommitAsync(statuses.Select(s => s.EventTime).Max(), statuses.Sum(s => s.SamplesTrained), spec.Strategy.Name(), stepMap, positions: positions, offsets: offsets);
            LastError = null;
            LastErrorTime = null;
            return (version.Value, manifest, stepMap);
        }
        catch (Exception e) when (e is not JobRequestException)
        {
            var failed = Failed(spec, version, stage, e);
            if (version is { } reserved)
            {
                // The trainers go on first: removing the leftovers may wait out the same storage failure.
                await release();
                await AbandonAsync(spec, reserved);
            }
            throw failed;
        }
    }

    /// <summary>
    /// After a commit: removes what earlier uncommitted versions left and prunes to the job's <c>KeepCheckpoints</c>, never a
    /// version in <paramref name="needed"/>. A failure is logged: the new version is committed, and this is tried again next time.
    /// </summary>
    public async Task CleanUpAsync(JobSpec spec, Func<Task<IReadOnlySet<long>>> needed)
    {
        try
        {
            // Versions that failed before: whatever of them storage kept (the reservation, partial files) goes now.
            foreach (var abandoned in state.State.Abandoned.ToList()) await AbandonAsync(spec, abandoned);
            await CheckpointWriter.PruneAsync(store, spec.Model, spec.KeepCheckpoints, await needed());
        }
        catch (Exception e)
        {
            LogPruneFailed(logger, e, job, spec.Model);
        }
    }

    /// <summary>
    /// The sample stream positions a checkpoint holds, if it recorded them for as many partitions as this job has
    /// (samples go to partitions by a hash of their key modulo the partition count, so another count maps differently).
    /// </summary>
    public async Task<(IReadOnlyDictionary<string, long> Positions, CheckpointManifest Manifest)?> PositionsOfAsync(JobSpec spec, string model, long version)
    {
        var manifest = (await CheckpointReader.OpenAsync(store, model, version, verify: false)).Manifest;
        if (manifest.Positions is not { Count: > 0 } positions) return null;
        var partitions = manifest.Steps?.Count ?? 0; // one step counter per trainer of the job that wrote it
        if (partitions != spec.Trainers)
        {
            LogPositionsUnused(logger, job, model, version, partitions, spec.Trainers);
            return null;
        }
        return (positions, manifest);
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
            await store.DeleteVersionAsync(spec.Model, version);
            if (state.State.Abandoned.Remove(version)) await state.WriteStateAsync();
            LogAbandonedRemoved(logger, job, spec.Model, version);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (!state.State.Abandoned.Contains(version)) state.State.Abandoned.Add(version);
            LogAbandonedKept(logger, job, spec.Model, version, StorageFailures.Describe(e));
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
    /// A checkpoint that storage cut short, said plainly: which version and step, what storage answered, and that nothing of
    /// it is visible (no manifest), so readers and serving stay on the previous version while training goes on.
    /// </summary>
    private CheckpointFailedException Failed(JobSpec spec, long? version, string stage, Exception e)
    {
        var previous = state.State.LastCheckpoint is { } last ? $"version {last} stays the latest" : "the model has no checkpoint yet";
        var message = $"checkpoint {(version is { } v ? $"version {v} " : "")}of model '{spec.Model}' was not committed: {stage} in {store.Location} failed " +
            $"({StorageFailures.Describe(e)}). No manifest was written, so nothing of it is visible: {previous}, serving stays where it is, " +
            "and training goes on; what it wrote is removed. Check that the checkpoint storage is reachable, then checkpoint again.";
        LastError = message;
        LastErrorTime = DateTime.UtcNow;
        instruments.CheckpointFailures.Add(1, FreshetTags.Of(spec.Model, job).With("stage", stage));
        LogCheckpointFailed(logger, e, job, spec.Model, version, stage);
        return new CheckpointFailedException(message);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job}: checkpoint of {Model} (version {Version}) not committed while {Stage}; training goes on")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception error, string job, string model, long? version, string stage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: pruning old checkpoints of {Model} failed; the new one is committed, pruning is tried again next time")]
    private static partial void LogPruneFailed(ILogger logger, Exception error, string job, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: checkpoint {Model} version {Version} holds stream positions of {Partitions} partitions, the job has {Trainers}; nothing is skipped, so a replay from before it trains those samples again")]
    private static partial void LogPositionsUnused(ILogger logger, string job, string model, long version, int partitions, int trainers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} removed what the uncommitted checkpoint {Version} of model {Model} left in the store")]
    private static partial void LogAbandonedRemoved(ILogger logger, string job, string model, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not yet remove what the uncommitted checkpoint {Version} of model {Model} left in the store ({Reason}); it is removed after the next checkpoint that commits")]
    private static partial void LogAbandonedKept(ILogger logger, string job, string model, long version, string reason);
}
