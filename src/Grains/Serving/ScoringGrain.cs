using Freshet.Serving;
using Orleans.Concurrency;

namespace Freshet.Grains.Serving;

/// <summary>
/// Scores rows: a stateless worker, so it runs on the silo that received the call and, when that silo
/// serves, scores from its replica without crossing silos; a silo without the serving role hands the
/// request to a serving silo. Rows are validated against the model's schema.
/// </summary>
[StatelessWorker]
public sealed class ScoringGrain(ServingRegistry registry, ServingScorer scorer) : Grain, IScoringGrain
{
    public Task<IReadOnlyList<Prediction>> ScoreAsync(ScoreRequest request) => scorer.ScoreAsync(request);

    public Task<ScoreAnswer> ScoreBatchAsync(ScoreBatch batch) => scorer.ScoreBatchAsync(batch);

    public Task<IReadOnlyList<Prediction>> ScoreSamplesAsync(string model, Freshet.Samples.SampleBatch samples) => scorer.ScoreSamplesAsync(model, samples);

    public async Task<ReplicaStatus> GetReplicaAsync(string model) => ReplicaGrain.StatusOf(await registry.GetAsync(model), registry.SiloName);
}
