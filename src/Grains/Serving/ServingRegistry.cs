using Freshet.Grains.Placement;
using System.Collections.Concurrent;
using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Serving;

namespace Freshet.Grains.Serving;

/// <summary>
/// The serving replicas of this silo, one per model, at most <see cref="Hosting.SiloLimitsOptions.MaxServedModels"/>:
/// loading one more unloads the one scored least recently, and a replica no deployment follows is dropped by its
/// <see cref="IReplicaGrain"/> once it goes unused (<see cref="Drop"/>). A replica starts from the version serving
/// follows (the last one announced, else the latest checkpoint) with its retained deltas, and its
/// <see cref="IReplicaGrain"/> on this silo keeps it on the weights stream while the registry holds it.
/// </summary>
public sealed partial class ServingRegistry(ICheckpointStore store, IGrainFactory grains, ILocalSiloDetails silo, SiloRoles roles, Model.Telemetry.FreshetInstruments instruments,
    Microsoft.Extensions.Options.IOptions<Hosting.SiloLimitsOptions> limits, TimeProvider time, Microsoft.Extensions.Logging.ILogger<ServingRegistry> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ServingReplica>>> _replicas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _used = new(StringComparer.Ordinal);
    private readonly Lock _evicting = new();
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

    /// <summary>Models held (loaded, or loading).</summary>
    public int Count => _replicas.Count;

    /// <summary>Whether this silo holds <paramref name="model"/> (loaded, or loading): its replica grain follows the weights stream only then.</summary>
    public bool Holds(string model) => _replicas.ContainsKey(model);

    /// <summary>The held replica, loaded or loading, without counting as a use (deltas and status keep no model loaded); null when not held.</summary>
    public Task<ServingReplica>? Held(string model) => _replicas.TryGetValue(model, out var lazy) ? lazy.Value : null;

    /// <summary>How long since <paramref name="model"/> was last asked for by <see cref="GetAsync"/> (scoring).</summary>
    public TimeSpan IdleFor(string model) => _used.TryGetValue(model, out var at) ? time.GetElapsedTime(at) : TimeSpan.MaxValue;

    /// <summary>Unloads <paramref name="model"/>'s replica (once no call is scoring with it); a later call loads it again.</summary>
    public void Drop(string model, string why)
    {
        if (!_replicas.TryRemove(model, out var lazy)) return;
        _used.TryRemove(model, out _);
        LogDropped(logger, model, SiloName, why);
        if (lazy.IsValueCreated) _ = lazy.Value.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>
    /// The replica of <paramref name="model"/>, loaded if it was not (a use: it becomes the most recent). Loading one
    /// more than <see cref="Hosting.SiloLimitsOptions.MaxServedModels"/> unloads the one used least recently.
    /// </summary>
    public async Task<ServingReplica> GetAsync(string model)
    {
        if (!Roles.Serving)
        {
            throw new ScoringRequestException($"silo {SiloName} does not serve (roles: {Roles}); send scoring to a serving silo's gateway");
        }
        if (NameRule.Problem(model, "model") is { } problem) throw new ScoringRequestException(problem);
        _used[model] = time.GetTimestamp();
        var lazy = _replicas.GetOrAdd(model, m => new Lazy<Task<ServingReplica>>(() => CreateAsync(m)));
        if (_replicas.Count > limits.Value.MaxServedModels) EvictLeastUsed(model);
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

    private void EvictLeastUsed(string keep)
    {
        lock (_evicting)
        {
            while (_replicas.Count > limits.Value.MaxServedModels)
            {
                var oldest = _replicas.Keys.Where(m => m != keep).OrderBy(m => _used.GetValueOrDefault(m)).FirstOrDefault();
                if (oldest is null) return;
                Drop(oldest, $"{limits.Value.MaxServedModels} models are held at most ({FreshetNames.SiloSection}:MaxServedModels) and it was used least recently");
            }
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
        var where = $"{CheckpointManifest.VersionFolder(model, version)}/{CheckpointFiles.Schema}";
        await using var s = await store.OpenReadAsync(model, version, CheckpointFiles.Schema);
        // A schema is at most AdminLimits.MaxSchemaLength characters, each at most 4 bytes of UTF-8.
        var bytes = await StreamBlocks.ReadAllAsync(s, 4 * Freshet.Admin.AdminLimits.MaxSchemaLength, where);
        return SchemaLoader.Parse(Encoding.UTF8.GetString(bytes), where);
    }

    public void Dispose()
    {
        foreach (var lazy in _replicas.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Dispose();
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Replica of {Model} unloaded on {Silo}: {Why}")]
    private static partial void LogDropped(Microsoft.Extensions.Logging.ILogger logger, string model, string silo, string why);
}
