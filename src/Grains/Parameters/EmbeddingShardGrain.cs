using Freshet.Grains.Placement;
using static Freshet.Grains.Persistence.ShutdownPolicy;
using Freshet.Checkpoints;
using Freshet.Grains.Checkpoints;
using Freshet.Grains.Persistence;
using Freshet.Model.Checkpoints;
using Freshet.Model.Cluster;
using Freshet.Model.Schema;
using Freshet.Parameters;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Freshet.Grains.Parameters;

/// <summary>
/// The rows of one model's shard. The changing tier (and rate statistics) persist in chunked grain
/// state every persist interval and on deactivation; the frozen tier lives in full checkpoints, and
/// a shard that comes back after a failure reloads it from the model's latest one.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
[TrainingSilo, SpreadOverTrainingSilos]
public sealed partial class EmbeddingShardGrain(
    [FromKeyedServices(FreshetNames.GrainStorage)] IGrainStorage storage,
    ICheckpointStore checkpoints,
    ILocalSiloDetails local,
    Hosting.HeapCompactor compactor,
    ILogger<EmbeddingShardGrain> logger) : Grain, IEmbeddingShardGrain
{
    private ShardConfig? _config;
    private ShardRows? _rows;
    private ChunkedGrainState? _state;
    private IGrainTimer? _timer;
    private bool _dirty;
    private DateTime? _lastPersisted;
    private readonly DateTime _activated = DateTime.UtcNow;

    private string Model => ShardKey.Parse(this.GetPrimaryKeyString()).Model;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _state = new ChunkedGrainState(storage, this.GetGrainId(), "shard");
        ShardConfig config;
        ShardRows rows;
        try
        {
            // Parsed from the chunks as they were read: no array of the whole state, and no copy of it past the configuration.
            await using var state = await _state.OpenReadAsync(cancellationToken);
            if (state is null) return;
            config = ShardConfigCodec.Read(state);
            rows = Build(config);
            rows.RestoreState(state);
        }
        catch (Exception e) when (Unreadable(e))
        {
            // Activate anyway, empty, and say why: a state that cannot be read must not block the restore that mends it (which
            // needs this grain), nor be trained on from scratch as if nothing had been lost.
            _unreadable = $"its persisted state cannot be read ({e.GetType().Name}: {e.Message})";
            LogUnreadable(logger, this.GetPrimaryKeyString(), _unreadable);
            return;
        }
        // The frozen tier is not in grain state: take it from the latest checkpoint since the last one this shard knew.
        if (rows.BaseVersion is not null)
        {
            try
            {
                // The version this shard last wrote or loaded, of the model it came from (Model B's shards hold Model A's): not the
                // model's latest, which after a rollback is the abandoned line's, and for Model B does not exist.
                var loaded = await Task.Run(() => rows.LoadCheckpointAsync(checkpoints, rows.BaseModel ?? config.Model, rows.BaseVersion, frozenOnly: true, cancellationToken), cancellationToken);
                LogFrozenReloaded(logger, this.GetPrimaryKeyString(), loaded);
            }
            catch (CheckpointException e)
            {
                // Serve and train on with a blank frozen tier rather than not at all; the log says why.
                LogFrozenLost(logger, this.GetPrimaryKeyString(), e.Message);
            }
        }
        _config = config;
        _rows = rows;
        StartTimer();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && _rows is not null && !GrainStateDiesWithSilo(storage, reason)) await PersistAsync();
    }

    public async Task ConfigureAsync(ShardConfig config)
    {
        if (config.Shard < 0 || config.Shards < 1 || config.Shard >= config.Shards)
        {
            throw new ArgumentException($"shard {config.Shard} of {config.Shards} does not exist");
        }
        if (_unreadable is not null)
        {
            // Configured, so a checkpoint can be loaded into it; nothing written until one is (the state stays as found).
            _config = config;
            _rows = Build(config);
            return;
        }
        if (_config is not null && _config.SchemaJson == config.SchemaJson && _config.Shards == config.Shards)
        {
            if (_config.PersistInterval != config.PersistInterval)
            {
                _config = config;
                StartTimer();
            }
            return;
        }
        _config = config;
        _rows = Build(config);
        StartTimer();
        await PersistAsync();
    }

    public Task<RowPullResult> PullAsync(RowPull request)
    {
        var rows = Rows();
        var tableRows = new List<byte[]>(request.Tables.Count);
        foreach (var t in request.Tables)
        {
            var ids = Bytes.As<ulong>(t.Ids);
            var dim = rows.Tables[t.Index].Dim;
            var dest = new float[ids.Length * dim];
            rows.Pull(t.Index, ids, Bytes.As<int>(t.Occurrences), dest, t.Train, request.Now);
            if (t.Train) _dirty = true;
            tableRows.Add(Bytes.Of<float>(dest));
        }
        var rates = new List<byte[]>(request.Rates.Count);
        var pendings = new List<byte[]>(request.Rates.Count);
        var pending = new List<(int Position, long Time, double Positives, double Samples)>();
        foreach (var r in request.Rates)
        {
            var ids = Bytes.As<ulong>(r.Ids);
            var dest = new double[ids.Length * 2];
            pending.Clear();
            rows.RateCounts(r.Index, ids, dest, pending);
            rates.Add(Bytes.Of<double>(dest));
            pendings.Add(Freshet.Model.Cluster.RateEventCodec.Write(pending));
        }
        return Task.FromResult(new RowPullResult { Rows = tableRows, RateCounts = rates, RatePending = pendings, RateTotals = Bytes.Of<double>(rows.RateTotals()) });
    }

    public Task<RowPushResult> PushAsync(RowPush request)
    {
        var rows = Rows();
        if (request.Step <= rows.Steps.GetValueOrDefault(request.Trainer))
        {
            // A retried push (the first try reached us, its answer did not): applied already.
            return Task.FromResult(new RowPushResult { RateTotals = Bytes.Of<double>(rows.RateTotals()) });
        }
        int applied = 0, dropped = 0;
        foreach (var t in request.Tables)
        {
            var (a, d) = rows.Push(request.Job, t.Index, Bytes.As<ulong>(t.Ids), Bytes.As<float>(t.Gradients));
            applied += a;
            dropped += d;
        }
        foreach (var r in request.Rates)
        {
            rows.AddRateEvents(r.Index, Bytes.As<ulong>(r.Ids), Bytes.As<long>(r.Times), Bytes.As<double>(r.Positives), Bytes.As<double>(r.Samples));
        }
        rows.Settle(request.Trainer, request.Watermark);
        rows.RecordStep(request.Trainer, request.Step);
        rows.ExpireIfDue(request.Now);
        _dirty = true;
        return Task.FromResult(new RowPushResult { Applied = applied, DroppedFrozen = dropped, RateTotals = Bytes.Of<double>(rows.RateTotals()) });
    }

    public async Task SetFrozenLockAsync(string job, bool locked)
    {
        Rows().SetLock(job, locked);
        await PersistAsync();
    }

    public Task<ChangedRows> TakeChangedRowsAsync(string tier)
    {
        if (!Enum.TryParse<Tier>(tier, ignoreCase: true, out var t) || t == Tier.Dense)
        {
            throw new ArgumentException($"'{tier}' is not an embedding tier; use frozen or changing");
        }
        var rows = Rows();
        var names = new List<string>();
        var ids = new List<byte[]>();
        var values = new List<byte[]>();
        foreach (var table in rows.Tables.Where(x => x.Tier == t))
        {
            var changed = table.TakeChanged();
            var snap = table.Export(changed);
            names.Add(table.Name);
            ids.Add(Bytes.Of<ulong>(snap.Ids));
            values.Add(Bytes.Of<float>(snap.Weights));
        }
        return Task.FromResult(new ChangedRows { Tables = names, Ids = ids, Rows = values });
    }

    public Task<ShardDelta> TakeDeltaAsync(int freshBudget)
    {
        var part = Rows().TakeDelta(freshBudget);
        return Task.FromResult(new ShardDelta { Payload = part.Encode(), ChangingRows = part.ChangingRows, FreshRows = part.FreshRows, FreshPending = part.FreshPending });
    }

    public async Task<IReadOnlyList<CheckpointFile>> WriteCheckpointAsync(long version, bool rebase)
    {
        var rows = Rows();
        var files = await rows.WriteCheckpointAsync(checkpoints, _config!.Model, version, rebase);
        await PersistAsync();
        compactor.AfterLargeRelease($"{Model}: shard checkpoint {version} written");
        return [.. files.Select(f => f.ToWire())];
    }

    public async Task LoadCheckpointAsync(long version, string? fromModel = null)
    {
        var config = _config ?? throw NotConfigured();
        // Load into a fresh shard and switch only when it all loaded: a bad checkpoint changes nothing.
        var fresh = Build(config);
        foreach (var job in _rows?.LockedJobs ?? []) fresh.SetLock(job, true);
        await Task.Run(() => fresh.LoadCheckpointAsync(checkpoints, fromModel ?? config.Model, version, frozenOnly: false));
        _rows = fresh;
        if (_unreadable is not null)
        {
            LogMended(logger, this.GetPrimaryKeyString(), version);
            _unreadable = null;
        }
        await PersistAsync();
        compactor.AfterLargeRelease($"{Model}: shard checkpoint {version} loaded");
    }

    public async Task PersistAsync()
    {
        if (_unreadable is not null) return; // nothing of its own to keep until a checkpoint is loaded
        var rows = Rows();
        var config = _config!;
        await _state!.WriteAsync(s =>
        {
            ShardConfigCodec.Write(s, config);
            rows.SerializeState(s);
        });
        _dirty = false;
        _lastPersisted = DateTime.UtcNow;
    }

    public Task<ShardStatus> GetStatusAsync()
    {
        var rows = _rows;
        return Task.FromResult(new ShardStatus
        {
            Model = Model,
            Shard = _config?.Shard ?? -1,
            Rows = rows?.Tables.Select(t => KeyValuePair.Create(t.Name, (long)t.Count)).Concat(rows.Rates.Select(r => KeyValuePair.Create(r.Name, (long)r.Count))).ToDictionary() ?? [],
            Evicted = rows?.Tables.Select(t => KeyValuePair.Create(t.Name, t.Evicted)).Concat(rows.Rates.Select(r => KeyValuePair.Create(r.Name, r.Evicted))).ToDictionary() ?? [],
            DroppedFrozen = rows?.DroppedFrozen.ToDictionary() ?? [],
            Steps = rows?.Steps.ToDictionary() ?? [],
            LoadedCheckpoint = rows?.BaseVersion,
            LastPersisted = _lastPersisted,
            LockedJobs = rows?.LockedJobs.ToList() ?? [],
            ActivatedUtc = _activated,
            Unpersisted = _dirty,
            Silo = local.SiloAddress.ToParsableString(),
            Error = _unreadable is null ? null : $"shard {this.GetPrimaryKeyString()}: {_unreadable}; it refuses to train until a checkpoint is loaded into it: restore the job (freshet rollback --model M --to VERSION)",
        });
    }

    private ShardRows Rows() => _unreadable is not null
        ? throw new ShardStateException($"shard {this.GetPrimaryKeyString()} refuses to train: {_unreadable}. Restore its job from a checkpoint (freshet rollback --model M --to VERSION, or a job's RestoreAsync), which loads one into it")
        : _rows ?? throw NotConfigured();

    /// <summary>Why the persisted state could not be used (it activates empty and refuses to train), or null.</summary>
    private string? _unreadable;

    /// <summary>A state whose bytes are wrong (not storage that could not be reached, which fails the activation to be tried again).</summary>
    private static bool Unreadable(Exception e) =>
        e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException or OverflowException or IndexOutOfRangeException
        || e.GetType().Namespace?.StartsWith("Orleans.Serialization", StringComparison.Ordinal) == true;

    private InvalidOperationException NotConfigured() =>
        new($"shard {this.GetPrimaryKeyString()} is not configured: its job has not been started (ITrainingOrchestratorGrain.StartAsync configures the shards)");

    private static ShardRows Build(ShardConfig config) =>
        new(SchemaLoader.Parse(config.SchemaJson, $"model '{config.Model}'"), config.Shard, config.Shards);

    private void StartTimer() => _timer = PersistTimer.Start(this, _timer, _config!.PersistInterval, () => _dirty, PersistAsync);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard} activated empty: {Reason}; it refuses to train until a checkpoint is loaded into it (restore its job)")]
    private static partial void LogUnreadable(ILogger logger, string shard, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {Shard}, whose persisted state could not be read, now holds checkpoint version {Version} and trains again")]
    private static partial void LogMended(ILogger logger, string shard, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard} could not reload its frozen tier and starts it blank: {Reason}")]
    private static partial void LogFrozenLost(ILogger logger, string shard, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} reloaded its frozen tier from checkpoint version {Version}")]
    private static partial void LogFrozenReloaded(ILogger logger, string shard, long version);
}
