using Freshet.Admin;

namespace Freshet.Serving;

/// <summary>Scores rows from the serving replica of the silo it runs on; scoring never crosses silos.</summary>
[ClientCallable(ClientAccess.Score)]
[Alias("Freshet.Serving.IScoringGrain")]
public interface IScoringGrain : IGrainWithIntegerKey
{
    [Alias("Score")] Task<IReadOnlyList<Prediction>> ScoreAsync(ScoreRequest request);

    /// <summary>Scores a batch as the SDK sends it (<see cref="ScoreBatch"/>), answering in one buffer per kind (<see cref="ScoreAnswer"/>).</summary>
    [Alias("ScoreBatch")] Task<ScoreAnswer> ScoreBatchAsync(ScoreBatch batch);

    /// <summary>Scores samples already featurized by the model's schema (replays and experiments, which read the log through the same featurizer as training).</summary>
    [Alias("ScoreSamples")] Task<IReadOnlyList<Prediction>> ScoreSamplesAsync(string model, Freshet.Samples.SampleBatch samples);

    /// <summary>This silo's replica of the model (loaded if it was not).</summary>
    [Alias("GetReplica")] Task<ReplicaStatus> GetReplicaAsync(string model);
}
