using System.Diagnostics.Metrics;

namespace Freshet.Model.Telemetry;

/// <summary>
/// Freshet's meters (all named <c>Freshet.*</c>): training, publishing and checkpoints, serving,
/// deployments. Hosts export them with OpenTelemetry; tests read them with a MeterListener.
/// </summary>
public static class FreshetMetrics
{
    public static readonly Meter Training = new("Freshet.Training");
    public static readonly Meter Publishing = new("Freshet.Publishing");
    public static readonly Meter Serving = new("Freshet.Serving");
    public static readonly Meter Deployments = new("Freshet.Deployments");

    /// <summary>Samples trained on, per task (<c>task</c> = ctr | cvr); samples/s is its rate.</summary>
    public static readonly Counter<long> SamplesTrained = Training.CreateCounter<long>("freshet.training.samples", "{sample}", "Samples a trainer took: scored, then trained on (a lone sample is scored only: batch-norm needs two)");

    public static readonly Counter<long> SamplesRejected = Training.CreateCounter<long>("freshet.training.samples.rejected", "{row}", "Plain JSON sample rows skipped (by the samples hub adapter or the trainer), by hub and reason");

    public static readonly Histogram<double> StepDuration = Training.CreateHistogram<double>("freshet.training.step.duration", "ms", "Training step time (pull, compute, push)");
    public static readonly Histogram<double> PullDuration = Training.CreateHistogram<double>("freshet.training.pull.duration", "ms", "Row pull time from the shard grains, per step");
    public static readonly Histogram<double> PushDuration = Training.CreateHistogram<double>("freshet.training.push.duration", "ms", "Gradient push time to the shard grains, per step");

    /// <summary>Progressive AUC of a closed event-time window (<c>task</c>).</summary>
    public static readonly Histogram<double> WindowAuc = Training.CreateHistogram<double>("freshet.training.window.auc", "1", "Windowed AUC, recorded as each event-time window closes");

    public static readonly Histogram<double> BarrierPause = Publishing.CreateHistogram<double>("freshet.barrier.pause", "ms", "Time trainers are held at the sync-send barrier");
    public static readonly Counter<long> PublishBytes = Publishing.CreateCounter<long>("freshet.publish.bytes", "By", "Bytes of weight deltas published");
    public static readonly Counter<long> PublishRows = Publishing.CreateCounter<long>("freshet.publish.rows", "{row}", "Rows in weight deltas published (changing and fresh)");
    public static readonly Histogram<double> CheckpointDuration = Publishing.CreateHistogram<double>("freshet.checkpoint.duration", "ms", "Full checkpoint time, barrier included");
    public static readonly Counter<long> CheckpointBytes = Publishing.CreateCounter<long>("freshet.checkpoint.bytes", "By", "Bytes of full checkpoints written");

    /// <summary>Snapshot under the barrier to applied on a replica (<c>model</c>).</summary>
    public static readonly Histogram<double> Freshness = Serving.CreateHistogram<double>("freshet.serving.freshness", "ms", "Delta freshness at a serving replica");
    public static readonly Histogram<double> ScoreDuration = Serving.CreateHistogram<double>("freshet.serving.score.duration", "ms", "Scoring time of a request on a serving replica");
    public static readonly Counter<long> RowsScored = Serving.CreateCounter<long>("freshet.serving.rows", "{row}", "Rows scored");

    public static readonly Counter<long> Transitions = Deployments.CreateCounter<long>("freshet.deployment.transitions", "{transition}", "Deployment transitions and actions, by kind");

    /// <summary>The meter names, for hosts that export them.</summary>
    public static readonly IReadOnlyList<string> MeterNames = [Training.Name, Publishing.Name, Serving.Name, Deployments.Name];
}
