using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Model.Serving;

/// <summary>
/// A serving silo's copy of one model: a full checkpoint plus the deltas published on it since,
/// applied exactly once and in order. Scoring reads under a shared lock; a delta applies under the
/// exclusive lock (a score sees the model before or after it, never half of it); a new checkpoint is
/// loaded off the scoring path and switched in under the exclusive lock in one reference swap.
/// </summary>
public sealed partial class ServingReplica(FeatureSchema schema, string model, Telemetry.FreshetInstruments? instruments = null) : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private InProcessParameterStore? _current;
    private InProcessParameterStore? _good;
    private DateTime _goodUtc;
    private bool _disposed;
    private long _applied;
    private long _duplicates;
    private long _refused;
    private long _timesRejected;
    private long _gaps;
    private long _callsScored;
    private long _rowsScored;
    private readonly Queue<double> _freshness = new();
    // A queue, not a ConcurrentBag: a bag keeps its items in thread-local lists, and those threads' storage held every
    // step, hence every model swapped out, for the process's lifetime (a whole model per checkpoint, seen in the soak drill).
    private readonly ConditionalWeakTable<InProcessParameterStore, ConcurrentQueue<TrainingStep>> _scorers = new();

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

    /// <summary>Times this replica found itself behind the version serving follows and caught up from the store by itself.</summary>
    public long CatchUps => Interlocked.Read(ref _catchUps);

    private long _catchUps;

    /// <summary>Counts a catch-up (the replica was behind what serving follows and went to it from the store).</summary>
    public void CountCatchUp() => Interlocked.Increment(ref _catchUps);

    /// <summary>Scoring calls refused because their time was too far ahead of the silo's clock (counted by the caller, <see cref="TimeRejected"/>).</summary>
    public long TimesRejected => Interlocked.Read(ref _timesRejected);

    /// <summary>Counts a scoring call refused for its time.</summary>
    public void TimeRejected() => Interlocked.Increment(ref _timesRejected);

    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Scoring calls answered by this replica since it was created.</summary>
    public long CallsScored => Interlocked.Read(ref _callsScored);

    /// <summary>Rows scored by this replica since it was created.</summary>
    public long RowsScored => Interlocked.Read(ref _rowsScored);

    /// <summary>Milliseconds from snapshot to applied, for the latest applied deltas (at most 1,000).</summary>
    public double[] FreshnessMs
    {
        get
        {
            lock (_freshness) return [.. _freshness];
        }
    }

    private readonly Queue<(double Delivered, double Apply)> _arrivals = new();

    /// <summary>
    /// For the latest deltas applied straight from the weights stream (at most 1,000): milliseconds from snapshot to the
    /// last chunk's arrival on this silo (taking, encoding and sending the delta, and the stream), and from that arrival
    /// to applied (decoding, waiting for scoring calls to let go, applying).
    /// </summary>
    public (double[] DeliveredMs, double[] ApplyMs) ArrivalsMs
    {
        get
        {
            lock (_arrivals) return ([.. _arrivals.Select(a => a.Delivered)], [.. _arrivals.Select(a => a.Apply)]);
        }
    }

    /// <summary>Records how a delta applied from the stream got here: its last chunk arrived at <paramref name="arrivedUtc"/>.</summary>
    public void RecordArrival(WeightsVersion applied, DateTime snapshotUtc, DateTime arrivedUtc)
    {
        if (Weights != applied) return;
        lock (_arrivals)
        {
            _arrivals.Enqueue(((arrivedUtc - snapshotUtc).TotalMilliseconds, (DateTime.UtcNow - arrivedUtc).TotalMilliseconds));
            while (_arrivals.Count > 1000) _arrivals.Dequeue();
        }
    }

    /// <summary>
    /// The last problem met with the weights offered (a retained delta that failed its check), naming the
    /// file; null while all is well. The replica keeps serving what it had.
    /// </summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// A new model from checkpoint <paramref name="version"/> and its retained deltas in order, up to sequence
    /// <paramref name="maxDelta"/> or the first missing or bad one (named in the error).
    /// </summary>
    private async Task<(InProcessParameterStore Model, WeightsVersion Loaded, DateTime WeightsUtc, string? Error)> BuildAsync(
        ICheckpointStore store, long version, long maxDelta, CancellationToken cancellationToken)
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
                if (loaded.Delta >= maxDelta || name != CheckpointFiles.Delta(loaded.NextDelta().Delta)) break;
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
            return (fresh, loaded, weights, error);
        }
        catch
        {
            fresh.Dispose();
            throw;
        }
    }

    /// <summary>The last good weights kept beside the served ones for shadow scoring (the guard's); null when none.</summary>
    public WeightsVersion? GoodWeights { get; private set; }

    /// <summary>A guard rollback's ceiling: deltas after it on its checkpoint are refused, and a load stops there.</summary>
    public WeightsVersion? Halt { get; set; }

    /// <summary>
    /// The guard's rollback: serves the good weights kept beside the served ones, when they are <paramref name="good"/>,
    /// and refuses deltas after them on their checkpoint (<see cref="Halt"/>). False when the copy is not at
    /// <paramref name="good"/>: load its checkpoint then (<see cref="LoadAsync"/> stops at the ceiling).
    /// </summary>
    public bool Revert(WeightsVersion good)
    {
        InProcessParameterStore? old = null;
        _lock.EnterWriteLock();
        try
        {
            Halt = good;
            TargetCheckpoint = good.Checkpoint;
            if (_disposed || _good is null || GoodWeights != good) return false;
            if (!ReferenceEquals(_current, _good))
            {
                old = _current;
                _current = _good;
            }
            Weights = good;
            WeightsUtc = _goodUtc;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        old?.Dispose();
        return true;
    }

    /// <summary>Applies <paramref name="delta"/> if it is the next one on the base serving follows; says what it did.</summary>
    public DeltaOutcome Offer(WeightDelta delta)
    {
        if (delta.Model != Model || delta.Version.Checkpoint != TargetCheckpoint || (Halt is { } halt && halt.Checkpoint == delta.Version.Checkpoint && delta.Version > halt))
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
            // Serving the good weights themselves (after a rollback): they stay as they are; a base of its own loads first.
            if (ReferenceEquals(_current, _good)) return DeltaOutcome.NeedsBase;
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
        var (results, weights, utc, _, _) = Score(rows, shadow: false);
        return (results, weights, utc);
    }

    /// <summary>
    /// Scores rows with both towers and, when <paramref name="shadow"/> and good weights other than the served ones are
    /// kept, their CTR with the good weights too (the guard's paired comparison), under the same lock.
    /// </summary>
    public (ScoreResult[] Results, WeightsVersion Weights, DateTime WeightsUtc, float[]? ShadowCtr, WeightsVersion? ShadowWeights) Score(IReadOnlyList<Sample> rows, bool shadow)
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var model = _current ?? throw new InvalidOperationException($"model '{Model}' has no checkpoint loaded on this silo yet");
            var ctr = new float[rows.Count];
            var cvr = new float[rows.Count];
            ScoreWith(model, rows, ctr, cvr);
            var results = new ScoreResult[rows.Count];
            for (var i = 0; i < rows.Count; i++) results[i] = new ScoreResult(ctr[i], cvr[i], ctr[i] * cvr[i]);
            float[]? shadowCtr = null;
            WeightsVersion? shadowWeights = null;
            if (shadow && _good is { } good && !ReferenceEquals(good, model) && GoodWeights != Weights)
            {
                shadowCtr = new float[rows.Count];
                ScoreWith(good, rows, shadowCtr, cvr); // the good weights' CVR is not judged: it only reuses the buffer, already copied into results
                shadowWeights = GoodWeights;
            }
            Interlocked.Increment(ref _callsScored);
            Interlocked.Add(ref _rowsScored, rows.Count);
            return (results, Weights!.Value, WeightsUtc, shadowCtr, shadowWeights);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Scores with a step kept for <paramref name="model"/>: a step's buffers are reused call after call (no step, index or
    /// buffer built per request), one step per concurrent caller; the steps go with their model when it is swapped out.
    /// </summary>
    private void ScoreWith(InProcessParameterStore model, IReadOnlyList<Sample> rows, Span<float> ctr, Span<float> cvr)
    {
        var steps = _scorers.GetValue(model, _ => new ConcurrentQueue<TrainingStep>());
        if (!steps.TryDequeue(out var step)) step = new TrainingStep(model, Strategy.Base);
        try
        {
            step.ScoreBoth(rows, ctr, cvr);
        }
        finally
        {
            steps.Enqueue(step);
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
            if (!ReferenceEquals(_good, _current)) _good?.Dispose();
            _current?.Dispose();
            _current = null;
            _good = null;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }
}
