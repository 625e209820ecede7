using System.Diagnostics;
using Freshet.Grains.Placement;
using static Freshet.Grains.Persistence.ShutdownPolicy;
using Freshet.Checkpoints;
using Freshet.Grains.Checkpoints;
using Freshet.Grains.Persistence;
using Freshet.Model.Checkpoints;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Parameters;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Freshet.Grains.Parameters;

/// <summary>
/// A model's dense tier: both towers' weights, optimizer state and batch-norm statistics. Persists
/// in chunked grain state every persist interval and on deactivation, and in full checkpoints.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
[TrainingSilo]
public sealed class DenseGrain(
    [FromKeyedServices(FreshetNames.GrainStorage)] IGrainStorage storage,
    ICheckpointStore checkpoints) : Grain, IDenseGrain
{
    private ShardConfig? _config;
    private DenseTier? _tier;
    private ChunkedGrainState? _state;
    private IGrainTimer? _timer;
    private bool _dirty;
    private long _busyTicks;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _state = new ChunkedGrainState(storage, this.GetGrainId(), "dense");
        var bytes = await _state.ReadAsync(cancellationToken);
        if (bytes is null) return;
        var config = ShardConfigCodec.Read(bytes, out var offset);
        var tier = new DenseTier(SchemaLoader.Parse(config.SchemaJson, $"model '{config.Model}'"));
        tier.RestoreState(bytes[offset..]);
        _config = config;
        _tier = tier;
        StartTimer();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && _tier is not null && !GrainStateDiesWithSilo(storage, reason)) await PersistAsync();
        _tier?.Dispose();
    }

    public async Task ConfigureAsync(ShardConfig config)
    {
        if (_config is not null && _config.SchemaJson == config.SchemaJson)
        {
            _config = config;
            StartTimer();
            return;
        }
        _tier?.Dispose();
        _tier = new DenseTier(SchemaLoader.Parse(config.SchemaJson, $"model '{config.Model}'"));
        _config = config;
        StartTimer();
        await PersistAsync();
    }

    public Task<IReadOnlyList<DenseTowerState>> PullAsync(long ctrVersion, long cvrVersion)
    {
        var started = Stopwatch.GetTimestamp();
        var tier = Tier();
        var result = new List<DenseTowerState>(2);
        if (tier.CtrVersion != ctrVersion) result.Add(State(tier, TaskKind.Ctr));
        if (tier.CvrVersion != cvrVersion) result.Add(State(tier, TaskKind.Cvr));
        _busyTicks += Stopwatch.GetTimestamp() - started;
        return Task.FromResult<IReadOnlyList<DenseTowerState>>(result);
    }

    public Task<DenseTowerState> PushAsync(DensePush push)
    {
        var started = Stopwatch.GetTimestamp();
        var tier = Tier();
        var task = push.Task;
        if (!tier.Applied(push.Trainer, task, push.Step)) // else a retried push, applied already
        {
            tier.Apply(task, Bytes.As<float>(push.Gradients), push.Buffers, push.LabelRate, push.Trainer, push.Step, push.BuffersBase);
            _dirty = true;
        }
        var state = State(tier, task);
        _busyTicks += Stopwatch.GetTimestamp() - started;
        return Task.FromResult(state);
    }

    public async Task<CheckpointFile> WriteCheckpointAsync(long version)
    {
        var file = await Tier().WriteCheckpointAsync(checkpoints, _config!.Model, version);
        await PersistAsync();
        return file.ToWire();
    }

    public async Task LoadCheckpointAsync(long version, string? fromModel = null)
    {
        await Tier().LoadCheckpointAsync(checkpoints, fromModel ?? _config!.Model, version);
        await PersistAsync();
    }

    public async Task PersistAsync()
    {
        await _state!.WriteAsync(ShardConfigCodec.Write(_config!, Tier().SerializeState()));
        _dirty = false;
    }

    public Task<DenseStatus> GetStatusAsync() => Task.FromResult(new DenseStatus
    {
        Model = this.GetPrimaryKeyString(),
        CtrVersion = _tier?.CtrVersion ?? 0,
        CvrVersion = _tier?.CvrVersion ?? 0,
        Steps = _tier?.Steps.ToDictionary() ?? [],
        LoadedCheckpoint = _tier?.BaseVersion,
        BusySeconds = (double)_busyTicks / Stopwatch.Frequency,
    });

    private DenseTier Tier() => _tier ?? throw new InvalidOperationException(
        $"dense tier of {this.GetPrimaryKeyString()} is not configured: its job has not been started (ITrainingOrchestratorGrain.StartAsync configures it)");

    private static DenseTowerState State(DenseTier tier, TaskKind task)
    {
        var tower = tier.Model.TowerOf(task);
        return new DenseTowerState { Task = task, Version = tier.VersionOf(task), Parameters = TowerCodec.ReadParameterBytes(tower), Buffers = TowerCodec.ReadBuffers(tower) };
    }

    private void StartTimer() => _timer = PersistTimer.Start(this, _timer, _config!.PersistInterval, () => _dirty, PersistAsync);
}
