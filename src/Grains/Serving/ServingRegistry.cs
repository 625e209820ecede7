using System.Collections.Concurrent;
using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Serving;
using Orleans.Runtime;

namespace Freshet.Grains.Serving;

/// <summary>
/// The serving replicas of this silo, one per model for the silo's lifetime. A replica starts from
/// the version serving follows (the last one announced, else the latest checkpoint) with its retained
/// deltas, and its <see cref="IReplicaGrain"/> on this silo keeps it on the weights stream.
/// </summary>
public sealed class ServingRegistry(ICheckpointStore store, IGrainFactory grains, ILocalSiloDetails silo, SiloRoles roles, Model.Telemetry.FreshetInstruments instruments) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ServingReplica>>> _replicas = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _warm = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, string> _warmErrors = new(StringComparer.Ordinal);
    private volatile string? _warmProblem;

    /// <summary>
    /// Done once this silo has loaded the replica of every model serving follows (see <see cref="WarmUpAsync"/>);
    /// a silo without the serving role is warm from the start.
    /// </summary>
    public bool Warm => _warm.Task.IsCompleted;

    /// <summary>Why the warm-up has not finished (the store could not be listed), or null.</summary>
    public string? WarmUpProblem => _warmProblem;

    /// <summary>Models whose replica could not be loaded at warm-up, with the reason (their checkpoint is bad).</summary>
    public IReadOnlyDictionary<string, string> WarmUpErrors => _warmErrors;

    /// <summary>
    /// Loads, before the silo reports ready, the replica of every model in the store that serving follows
    /// (one with a version announced), so the first scoring call after a start is served from memory.
    /// Listing the store is tried again every <paramref name="retry"/> until it answers; a model whose
    /// checkpoint cannot be loaded is recorded in <see cref="WarmUpErrors"/> and does not hold the others up.
    /// </summary>
    public async Task WarmUpAsync(TimeSpan retry, CancellationToken cancellationToken)
    {
        if (!Roles.Serving)
        {
            _warm.TrySetResult();
            return;
        }
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                foreach (var model in await store.ListModelsAsync(cancellationToken))
                {
                    if (await grains.GetGrain<IServingVersionGrain>(model).GetAsync() is null) continue;
                    try
                    {
                        await GetAsync(model);
                        _warmErrors.TryRemove(model, out _);
                    }
                    catch (Exception e) when (e is ScoringRequestException or CheckpointException or InvalidDataException or SchemaException or IOException)
                    {
                        _warmErrors[model] = e.Message;
                    }
                }
                _warmProblem = null;
                _warm.TrySetResult();
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _warmProblem = $"listing the models in {store.Location} failed: {e.Message}";
                await Task.Delay(retry, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public SiloRoles Roles { get; } = roles;

    public string SiloName => silo.SiloAddress.ToParsableString();

    public ICheckpointStore Store => store;

    public ServingReplica? TryGet(string model) =>
        _replicas.TryGetValue(model, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully ? lazy.Value.Result : null;

    public async Task<ServingReplica> GetAsync(string model)
    {
        if (!Roles.Serving)
        {
            throw new ScoringRequestException($"silo {SiloName} does not serve (roles: {Roles}); send scoring to a serving silo's gateway");
        }
        var lazy = _replicas.GetOrAdd(model, m => new Lazy<Task<ServingReplica>>(() => CreateAsync(m)));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            _replicas.TryRemove(new KeyValuePair<string, Lazy<Task<ServingReplica>>>(model, lazy));
            throw;
        }
    }

    private async Task<ServingReplica> CreateAsync(string model)
    {
        var versions = await store.ListVersionsAsync(model);
        if (versions.Count == 0)
        {
            throw new ScoringRequestException($"model '{model}' has no checkpoint in {store.Location}: nothing to serve yet");
        }
        var serving = grains.GetGrain<IServingVersionGrain>(model);
        var target = await serving.GetAsync() ?? versions[^1];
        var marks = await serving.GetGuardAsync();
        var schema = await ReadSchemaAsync(model, target);
        var replica = new ServingReplica(schema, model, instruments) { TargetCheckpoint = target, Halt = marks.Halt };
        await Task.Run(() => replica.LoadAsync(store, target));
        if (marks.Good is { } good) await LoadGoodAsync(replica, good);
        await grains.Replica(model, silo.SiloAddress).StartAsync();
        return replica;
    }

    /// <summary>
    /// Brings the replica's copy of the last good weights (the guard's) to <paramref name="good"/>. When the store cannot
    /// give them, the replica serves on without shadow scoring, and says why in its error.
    /// </summary>
    public async Task<bool> LoadGoodAsync(ServingReplica replica, Model.Serving.WeightsVersion good)
    {
        try
        {
            await Task.Run(() => replica.LoadGoodAsync(store, good));
            return true;
        }
        catch (CheckpointException e)
        {
            replica.ReportError(e.Message);
            return false;
        }
    }

    private async Task<FeatureSchema> ReadSchemaAsync(string model, long version)
    {
        await using var s = await store.OpenReadAsync(model, version, CheckpointFiles.Schema);
        using var reader = new StreamReader(s, Encoding.UTF8);
        return SchemaLoader.Parse(await reader.ReadToEndAsync(), $"{CheckpointManifest.VersionFolder(model, version)}/{CheckpointFiles.Schema}");
    }

    public void Dispose()
    {
        foreach (var lazy in _replicas.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Dispose();
        }
    }
}
