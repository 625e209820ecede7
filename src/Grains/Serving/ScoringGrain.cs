using System.Collections.Concurrent;
using Freshet.Model.Serving;
using Freshet.Serving;
using Orleans.Concurrency;

namespace Freshet.Grains.Serving;

/// <summary>
/// Scores from this silo's replica: a stateless worker, so it runs on the silo that received the
/// call and scoring never crosses silos. Rows are validated against the model's schema.
/// </summary>
[StatelessWorker]
public sealed class ScoringGrain(ServingRegistry registry) : Grain, IScoringGrain
{
    private static readonly ConcurrentDictionary<(string Model, long Version), RequestFeaturizer> Featurizers = new();

    public async Task<IReadOnlyList<Prediction>> ScoreAsync(ScoreRequest request)
    {
        if (string.IsNullOrEmpty(request.Model)) throw new ScoringRequestException("the request names no model");
        var replica = await registry.GetAsync(request.Model);
        var featurizer = Featurizers.GetOrAdd((request.Model, replica.Version ?? 0), _ => new RequestFeaturizer(replica.Schema));
        var now = DateTime.UtcNow;
        List<Model.Data.Sample> samples;
        try
        {
            samples = featurizer.Featurize([.. request.Rows.Select(r => r.Values)], now, ScoreRequest.MaxRows);
        }
        catch (ArgumentException e)
        {
            throw new ScoringRequestException($"model '{request.Model}': {e.Message}");
        }
        var (results, version, sequence, weights) = replica.Score(samples);
        var age = now - weights;
        return [.. results.Select(r => new Prediction { Ctr = r.Ctr, Cvr = r.Cvr, Ctcvr = r.Ctcvr, ModelVersion = version, DeltaSequence = sequence, WeightsAge = age })];
    }

    public async Task<ReplicaStatus> GetReplicaAsync(string model) => ReplicaGrain.StatusOf(await registry.GetAsync(model), registry.SiloName);
}
