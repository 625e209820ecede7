using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Training;

namespace Freshet.Model.Serving;

/// <summary>
/// A serving silo's copy of one model: a full checkpoint plus the deltas published on it since,
/// applied exactly once and in order. Scoring reads under a shared lock; a delta applies under the
/// exclusive lock (a score sees the model before or after it, never half of it); a new checkpoint is
/// loaded off the scoring path and switched in under the exclusive lock in one reference swap.
/// </summary>
public sealed class ServingReplica(FeatureSchema schema, string model, Telemetry.FreshetInstruments? instruments = null) : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private InProcessParameterStore? _current;
    private bool _disposed;
    private long _applied;
    private long _duplicates;
    private long _refused;
    private long _gaps;
    private readonly Queue<double> _freshness = new();

    public FeatureSchema Schema { get; } = schema;

    public string Model { get; } = model;

    /// <summary>The weights served: the checkpoint loaded and the last delta applied on it; null before the first load.</summary>
    public WeightsVersion? Weights { get; private set; }

    /// <summary>When the weights in service were snapshotted (the last delta's snapshot, or the checkpoint's creation).</summary>
    public DateTime WeightsUtc { get; private set; }

    /// <summary>The checkpoint serving follows: deltas on any other base are refused.</summary>
    public long? TargetCheckpoint { get; set; }

    public long Applied => Interlocked.Read(ref _applied);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Refused => Interlocked.Read(ref _refused);

    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Milliseconds from snapshot to applied, for the latest applied deltas (at most 1,000).</summary>
    public double[] FreshnessMs
    {
        get
        {
            lock (_freshness) return [.. _freshness];
        }
    }

    /// <summary>
    /// The last problem met with the weights offered (a retained delta that failed its check), naming the
    /// file; null while all is well. The replica keeps serving what it had.
    /// </summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// Loads checkpoint <paramref name="version"/> and the deltas retained beside it (in order, up to the
    /// first missing one) into a new model, then switches to it. Scoring goes on against the old model
    /// until the switch. A bad checkpoint throws and leaves the replica as it was; a bad retained delta
    /// stops the load there (the checkpoint and the deltas before it are served) and is named in
    /// <see cref="LastError"/>.
    /// </summary>
    public async Task LoadAsync(ICheckpointStore store, long version, CancellationToken cancellationToken = default)
    {
        var fresh = new InProcessParameterStore(Schema);
        try
        {
            var manifest = await ModelCheckpoint.LoadAsync(store, fresh, version, cancellationToken, Model);
            var loaded = new WeightsVersion(version);
            var weights = manifest.CreatedUtc;
            string? error = null;
            foreach (var name in await store.ListFilesAsync(Model, version, CheckpointFiles.DeltaPrefix, cancellationToken))
            {
                if (name != CheckpointFiles.Delta(loaded.NextDelta().Delta)) break;
                WeightDelta delta;
                try
                {
                    delta = await ReadDeltaAsync(store, Model, version, name, cancellationToken);
                }
                catch (CheckpointException e)
                {
                    error = e.Message;
                    break;
                }
                if (delta.Version != loaded.NextDelta() || delta.Model != Model)
                {
                    error = $"{CheckpointManifest.VersionFolder(Model, version)}/{name} holds delta {delta.Model} {delta.Version}, not {Model} {loaded.NextDelta()}; the deltas after it are not applied";
                    break;
                }
                ApplyTo(fresh, delta);
                loaded = delta.Version;
                weights = delta.SnapshotUtc;
            }
            InProcessParameterStore? old;
            _lock.EnterWriteLock();
            try
            {
                if (_disposed)
                {
                    // The silo stopped while this checkpoint loaded (a load runs off the grain's turn): it is not needed.
                    old = fresh;
                }
                else
                {
                    old = _current;
                    _current = fresh;
                    Weights = loaded;
                    WeightsUtc = weights;
                    TargetCheckpoint ??= version;
                    LastError = error;
                }
            }
            finally
            {
                _lock.ExitWriteLock();
            }
            old?.Dispose();
        }
        catch
        {
            fresh.Dispose();
            throw;
        }
    }

    /// <summary>Applies <paramref name="delta"/> if it is the next one on the base serving follows; says what it did.</summary>
    public DeltaOutcome Offer(WeightDelta delta)
    {
        if (delta.Model != Model || delta.Version.Checkpoint != TargetCheckpoint)
        {
            Interlocked.Increment(ref _refused);
            return DeltaOutcome.Refused;
        }
        _lock.EnterWriteLock();
        try
        {
            if (_current is null || Weights is not { } served || served.Checkpoint != delta.Version.Checkpoint) return DeltaOutcome.NeedsBase;
            if (delta.Version <= served)
            {
                Interlocked.Increment(ref _duplicates);
                return DeltaOutcome.Duplicate;
            }
            if (delta.Version != served.NextDelta())
            {
                Interlocked.Increment(ref _gaps);
                return DeltaOutcome.Gap;
            }
            ApplyTo(_current, delta);
            Weights = delta.Version;
            WeightsUtc = delta.SnapshotUtc;
            Interlocked.Increment(ref _applied);
            lock (_freshness)
            {
                var freshness = (DateTime.UtcNow - delta.SnapshotUtc).TotalMilliseconds;
                _freshness.Enqueue(freshness);
                instruments?.Freshness.Record(freshness, new KeyValuePair<string, object?>("model", Model));
                while (_freshness.Count > 1000) _freshness.Dequeue();
            }
            return DeltaOutcome.Applied;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Scores rows with both towers; also returns the weights' version and time that produced them.</summary>
    public (ScoreResult[] Results, WeightsVersion Weights, DateTime WeightsUtc) Score(IReadOnlyList<Sample> rows)
    {
        _lock.EnterReadLock();
        try
        {
            var model = _current ?? throw new InvalidOperationException($"model '{Model}' has no checkpoint loaded on this silo yet");
            var step = new TrainingStep(model, Strategy.Base);
            var ctr = new float[rows.Count];
            var cvr = new float[rows.Count];
            step.ScoreAsync(rows, TaskKind.Ctr, ctr).AsTask().GetAwaiter().GetResult();
            step.ScoreAsync(rows, TaskKind.Cvr, cvr).AsTask().GetAwaiter().GetResult();
            var results = new ScoreResult[rows.Count];
            for (var i = 0; i < rows.Count; i++) results[i] = new ScoreResult(ctr[i], cvr[i], ctr[i] * cvr[i]);
            return (results, Weights!.Value, WeightsUtc);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Runs <paramref name="read"/> on the model in service under the shared lock (for comparisons and inspection).</summary>
    public T Inspect<T>(Func<InProcessParameterStore, T> read)
    {
        _lock.EnterReadLock();
        try
        {
            return read(_current ?? throw new InvalidOperationException($"model '{Model}' has no checkpoint loaded on this silo yet"));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Records a problem with weights offered to this replica (see <see cref="LastError"/>).</summary>
    public void ReportError(string error) => LastError = error;

    /// <summary>
    /// Reads a retained delta and checks it (length and SHA-256 in its trailer); a missing or bad file is a
    /// <see cref="CheckpointException"/> naming it.
    /// </summary>
    public static async Task<WeightDelta> ReadDeltaAsync(ICheckpointStore store, string model, long version, string name, CancellationToken cancellationToken)
    {
        var where = $"retained delta {CheckpointManifest.VersionFolder(model, version)}/{name} in {store.Location}";
        await using var s = await store.OpenReadAsync(model, version, name, cancellationToken);
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms, cancellationToken);
        try
        {
            return WeightDelta.Decode(ms.ToArray(), where);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException)
        {
            throw new CheckpointException(e is InvalidDataException ? e.Message : $"{where}: {e.Message}", e);
        }
    }

    private static void ApplyTo(InProcessParameterStore model, WeightDelta delta)
    {
        // Removals first: a row evicted and then created again within one period is in both, and stays.
        foreach (var r in delta.Removed)
        {
            if (model.Tables.FirstOrDefault(x => x.Name == r.Table) is { } table) table.Delete(r.Ids);
            else model.Rates.FirstOrDefault(x => x.Name == r.Table)?.Delete(r.Ids);
        }
        foreach (var t in delta.Tables)
        {
            var table = model.Tables.FirstOrDefault(x => x.Name == t.Table)
                ?? throw new InvalidDataException($"delta {delta.Version} names table '{t.Table}', which model '{delta.Model}' does not have");
            table.Import(t, null, replace: false);
        }
        foreach (var r in delta.Rates)
        {
            model.Rates.FirstOrDefault(x => x.Name == r.Table)?.Merge(r);
        }
        foreach (var d in delta.Dense)
        {
            var tower = model.ComputeModel.TowerOf(d.Task);
            TowerCodec.WriteParameters(tower, d.Parameters);
            TowerCodec.WriteBuffers(tower, d.Buffers);
        }
    }

    /// <summary>
    /// Frees the model in service once no score, inspection or delta is using it (they hold the lock; a load
    /// finishing later finds the replica disposed and frees what it loaded). The lock itself is left to the
    /// collector: a load still running must be able to take it and see <see cref="_disposed"/>.
    /// </summary>
    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _current?.Dispose();
            _current = null;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }
}
