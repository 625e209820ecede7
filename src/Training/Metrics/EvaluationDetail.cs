namespace Freshet.Model.Metrics;

/// <summary>What a progressive evaluation keeps (<see cref="TaskEvaluation"/>).</summary>
public enum EvaluationDetail
{
    /// <summary>
    /// Aggregates of a size that does not grow with the samples: AUC from log-odds histograms (exact to a bin's width),
    /// log-loss as sums, closed windows as their figures (the latest <see cref="TaskEvaluation.MaxWindows"/>), group AUC
    /// over a bounded set of open groups. The service's trainers run this way.
    /// </summary>
    Bounded,

    /// <summary>
    /// Every sample's score, label, baselines, time and group, for exact figures at the end of a bounded run
    /// (<c>freshet train</c>, the experiments). Memory grows with every sample: never for a trainer fed without end.
    /// </summary>
    PerSample,
}
