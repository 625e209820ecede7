using System.Diagnostics.Metrics;

namespace Freshet.Model.Telemetry;

/// <summary>
/// Freshet's instruments (meters named <c>Freshet.*</c>): training, publishing and checkpoints, serving,
/// deployments. Created from an <see cref="IMeterFactory"/>, so a silo's instruments are its own (a test
/// listens to one silo by <see cref="Meter.Scope"/>, not by tags) and hosts export them with OpenTelemetry.
/// Every measurement carries the tags of <see cref="FreshetTags"/> that apply: <c>model</c>, <c>job</c>, <c>task</c>.
/// </summary>
public sealed class FreshetInstruments
{
    public const string TrainingMeter = "Freshet.Training";
    public const string PublishingMeter = "Freshet.Publishing";
    public const string ServingMeter = "Freshet.Serving";
    public const string DeploymentsMeter = "Freshet.Deployments";
    public const string FeedbackMeter = "Freshet.Feedback";

    /// <summary>The meter names, for hosts that export them.</summary>
    public static readonly IReadOnlyList<string> MeterNames = [TrainingMeter, PublishingMeter, ServingMeter, DeploymentsMeter, FeedbackMeter];

    public FreshetInstruments(IMeterFactory meters)
    {
        var training = meters.Create(TrainingMeter);
        var publishing = meters.Create(PublishingMeter);
        var serving = meters.Create(ServingMeter);
        var deployments = meters.Create(DeploymentsMeter);
        var feedback = meters.Create(FeedbackMeter);
        SamplesTrained = training.CreateCounter<long>("freshet.training.samples", "{sample}", "Samples a trainer took: scored, then trained on (a lone sample is scored only: batch-norm needs two)");
        SamplesRejected = training.CreateCounter<long>("freshet.training.samples.rejected", "{row}", "Plain JSON sample rows skipped (by the samples hub adapter or the trainer), by hub and reason");
        StepDuration = training.CreateHistogram<double>("freshet.training.step.duration", "ms", "Training step time (pull, compute, push)");
        PullDuration = training.CreateHistogram<double>("freshet.training.pull.duration", "ms", "Row pull time from the shard grains, per step");
        PushDuration = training.CreateHistogram<double>("freshet.training.push.duration", "ms", "Gradient push time to the shard grains, per step");
        WindowAuc = training.CreateHistogram<double>("freshet.training.window.auc", "1", "Windowed AUC, recorded as each event-time window closes");
        BarrierPause = publishing.CreateHistogram<double>("freshet.barrier.pause", "ms", "Time trainers are held at the sync-send barrier");
        PublishBytes = publishing.CreateCounter<long>("freshet.publish.bytes", "By", "Bytes of weight deltas published");
        PublishRows = publishing.CreateCounter<long>("freshet.publish.rows", "{row}", "Rows in weight deltas published (changing and fresh)");
        CheckpointDuration = publishing.CreateHistogram<double>("freshet.checkpoint.duration", "ms", "Full checkpoint time, barrier included");
        CheckpointBytes = publishing.CreateCounter<long>("freshet.checkpoint.bytes", "By", "Bytes of full checkpoints written");
        PublishFailures = publishing.CreateCounter<long>("freshet.publish.failures", "{delta}", "Deltas not published on the first try (storage or the stream failed), by stage; each is kept and sent first on the next publish");
        CheckpointFailures = publishing.CreateCounter<long>("freshet.checkpoint.failures", "{checkpoint}", "Full checkpoints not committed (storage failed while writing), by the step that failed");
        Freshness = serving.CreateHistogram<double>("freshet.serving.freshness", "ms", "Delta freshness at a serving replica: snapshot under the barrier to applied");
        ScoreDuration = serving.CreateHistogram<double>("freshet.serving.score.duration", "ms", "Scoring time of a request on a serving replica");
        RowsScored = serving.CreateCounter<long>("freshet.serving.rows", "{row}", "Rows scored");
        Transitions = deployments.CreateCounter<long>("freshet.deployment.transitions", "{transition}", "Deployment transitions and actions, by kind");
        PredictionsLogged = feedback.CreateCounter<long>("freshet.feedback.predictions", "{row}", "Scored rows logged for their joiner, by outcome (logged, or dropped: the joiner could not be reached or too many were in flight)");
        Labels = feedback.CreateCounter<long>("freshet.feedback.labels", "{label}", "Labels reported, by event (click, conversion) and outcome (joined, unmatched, expired)");
        FeedbackSamples = feedback.CreateCounter<long>("freshet.feedback.samples", "{sample}", "Training samples the joiners made, by task");
        ServedLogLoss = feedback.CreateHistogram<double>("freshet.feedback.served.logloss", "1", "Log-loss of what serving answered, per row as its label settles, by task and the checkpoint of the weights that answered (status has AUC per weights version)");
        TimesRejected = feedback.CreateCounter<long>("freshet.times.rejected", "{input}", "Inputs refused because their time was further ahead of the receiving silo's clock than Freshet:Silo:MaxClockSkew, by input (score, prediction-log, label, sample)");
        PendingEvicted = feedback.CreateCounter<long>("freshet.feedback.evicted", "{row}", "Impressions and clicks a joiner settled before their window closed, because it held its most");
    }

    /// <summary>Samples trained on (<c>model</c>, <c>job</c>, <c>task</c>); samples/s is its rate.</summary>
    public Counter<long> SamplesTrained { get; }

    /// <summary>Rows skipped (<c>hub</c>, <c>reason</c>; <c>model</c> and <c>job</c> where known).</summary>
    public Counter<long> SamplesRejected { get; }

    /// <summary>Inputs refused because their time was too far ahead of the receiver's clock, by <c>input</c>.</summary>
    public Counter<long> TimesRejected { get; }

    public Histogram<double> StepDuration { get; }

    public Histogram<double> PullDuration { get; }

    public Histogram<double> PushDuration { get; }

    /// <summary>Progressive AUC of a closed event-time window (<c>task</c> is ctr, cvr or ctcvr).</summary>
    public Histogram<double> WindowAuc { get; }

    /// <summary>Trainers held at the barrier (<c>model</c>, <c>job</c>, <c>action</c> = publish | checkpoint).</summary>
    public Histogram<double> BarrierPause { get; }

    public Counter<long> PublishBytes { get; }

    public Counter<long> PublishRows { get; }

    public Histogram<double> CheckpointDuration { get; }

    public Counter<long> CheckpointBytes { get; }

    public Counter<long> CheckpointFailures { get; }

    public Counter<long> PublishFailures { get; }

    public Histogram<double> Freshness { get; }

    public Histogram<double> ScoreDuration { get; }

    public Counter<long> RowsScored { get; }

    public Counter<long> PredictionsLogged { get; }

    public Counter<long> Labels { get; }

    public Counter<long> FeedbackSamples { get; }

    public Counter<long> PendingEvicted { get; }

    public Histogram<double> ServedLogLoss { get; }

    public Counter<long> Transitions { get; }

    /// <summary>Instruments of their own, for a process without a host (a standalone trainer, a test); their meters go with the returned factory.</summary>
    public static (FreshetInstruments Instruments, IMeterFactory Factory) Standalone()
    {
        var factory = new StandaloneMeterFactory();
        return (new FreshetInstruments(factory), factory);
    }

    private sealed class StandaloneMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            lock (_meters) _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            lock (_meters)
            {
                foreach (var m in _meters) m.Dispose();
                _meters.Clear();
            }
        }
    }
}
