using Freshet.Grains.Placement;
using Freshet.Serving;
using Orleans.Concurrency;

namespace Freshet.Grains.Serving;

/// <summary>A silo's serving front door, placed on the silo its key names; calls interleave (scoring is read-only).</summary>
[SiloKeyPlacement, Reentrant]
public sealed class ServingSiloGrain(ServingRegistry registry, ServingScorer scorer, Hosting.HeapCompactor compactor) : Grain, IServingSiloGrain
{
    public Task<SiloRoleInfo> GetRolesAsync()
    {
        Mine();
        var gc = GC.GetGCMemoryInfo();
        return Task.FromResult(new SiloRoleInfo
        {
            Silo = registry.SiloName, Training = registry.Roles.Training, Serving = registry.Roles.Serving,
            WorkingSetBytes = Environment.WorkingSet, GcHeapBytes = gc.HeapSizeBytes, GcCommittedBytes = gc.TotalCommittedBytes,
            HeapCompactions = compactor.Compactions, LongestHeapCompactionMs = compactor.LongestPause.TotalMilliseconds, NativeBytesTrimmed = compactor.NativeBytesTrimmed,
        });
    }

    public Task<IReadOnlyList<Prediction>> ScoreAsync(ScoreRequest request)
    {
        Mine();
        return scorer.ScoreLocalAsync(request);
    }

    public Task<ScoreAnswer> ScoreBatchAsync(ScoreBatch batch)
    {
        Mine();
        return scorer.ScoreBatchLocalAsync(batch);
    }

    public Task<IReadOnlyList<Prediction>> ScoreSamplesAsync(string model, Freshet.Samples.SampleBatch samples)
    {
        Mine();
        return scorer.ScoreSamplesLocalAsync(model, samples);
    }

    public async Task<ReplicaStatus?> GetReplicaAsync(string model)
    {
        Mine();
        return registry.Roles.Serving ? ReplicaGrain.StatusOf(await registry.GetAsync(model), registry.SiloName) : null;
    }

    /// <summary>Answers only on the silo its key names (placed elsewhere, that silo is gone).</summary>
    private void Mine()
    {
        if (this.GetPrimaryKeyString() == registry.SiloName) return;
        DeactivateOnIdle();
        throw new SiloUnavailableException($"silo {this.GetPrimaryKeyString()} is not an active silo of the cluster");
    }
}
