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
public sealed class ServingRegistry(ICheckpointStore store, IGrainFactory grains, ILocalSiloDetails silo, SiloRoles roles) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ServingReplica>>> _replicas = new(StringComparer.Ordinal);

    public SiloRoles Roles { get; } = roles;

    public string SiloName => silo.SiloAddress.ToParsableString();

    public ICheckpointStore Store => store;

    public static string ReplicaKey(string model, SiloAddress silo) => $"{model}/{silo.ToParsableString()}";

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
        var target = await grains.GetGrain<IServingVersionGrain>(model).GetAsync() ?? versions[^1];
        var schema = await ReadSchemaAsync(model, target);
        var replica = new ServingReplica(schema, model) { TargetVersion = target };
        await Task.Run(() => replica.LoadAsync(store, target));
        await grains.GetGrain<IReplicaGrain>(ReplicaKey(model, silo.SiloAddress)).StartAsync();
        return replica;
    }

    private async Task<FeatureSchema> ReadSchemaAsync(string model, long version)
    {
        await using var s = await store.OpenReadAsync(model, version, ModelCheckpoint.SchemaFileName);
        using var reader = new StreamReader(s, Encoding.UTF8);
        return SchemaLoader.Parse(await reader.ReadToEndAsync(), $"{CheckpointManifest.VersionFolder(model, version)}/{ModelCheckpoint.SchemaFileName}");
    }

    public void Dispose()
    {
        foreach (var lazy in _replicas.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Dispose();
        }
    }
}
