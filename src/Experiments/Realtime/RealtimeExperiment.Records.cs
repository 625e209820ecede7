using Freshet.Model.Serving;
using Freshet.Silo;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Samples;
using Freshet.Serving;

namespace Freshet.Experiments;

/// <summary>The real-time comparison's options, its runs' results and its progress reports.</summary>
public static partial class RealtimeExperiment
{
    public sealed record Options
    {
        public IReadOnlyList<RealtimeStrategy> Strategies { get; init; } = RealtimeStrategy.Ordered;

        /// <summary>Event time between publishes.</summary>
        public TimeSpan PublishInterval { get; init; } = TimeSpan.FromHours(1);

        /// <summary>Windowed AUC's window.</summary>
        public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);

        /// <summary>The base model's training span from the log's start (default: a quarter of the log, at most a day).</summary>
        public TimeSpan? Warmup { get; init; }

        /// <summary>Promotion mode: Model A's checkpoint period.</summary>
        public TimeSpan PromotionEvery { get; init; } = TimeSpan.FromHours(6);

        /// <summary>Scenario (offsets from the replay's start): real-time updates start at T1, a full update at T2, updates stop at T3.</summary>
        public TimeSpan? UpdatesStart { get; init; }
        public TimeSpan? FullUpdateAt { get; init; }
        public TimeSpan? UpdatesStop { get; init; }

        public int Shards { get; init; } = 2;

        /// <summary>
        /// Delayed conversions (DESIGN.md 6.2, docs/FEEDBACK.md): also run part+fresh with CVR labels as a live system
        /// gets them, once per <see cref="DelayedFeedback"/> method: waiting for each click's conversion or this attribution
        /// window's close (<c>part+fresh+join</c>), and each correction of <see cref="Corrections"/> (<c>part+fresh+fnw</c>, <c>part+fresh+defer</c>); <c>base</c> and
        /// <c>part+fresh</c> (the immediate label a live system cannot have) run too, for the comparison. Null: none of
        /// these. Needs a log with conversion times.
        /// </summary>
        public TimeSpan? AttributionWindow { get; init; }

        /// <summary>The delayed-feedback corrections compared with an attribution window, each a run (<c>--feedback</c>); the first is <see cref="Result.Delayed"/>.</summary>
        public IReadOnlyList<DelayedFeedback> Corrections { get; init; } = [DelayedFeedback.Fnw];

        /// <summary>
        /// On the synthetic stream, the median delay from a click to its conversion (the schema's
        /// <c>source.synthetic.conversionDelayMedian</c> otherwise): hours make delayed feedback matter.
        /// </summary>
        public TimeSpan? ConversionDelay { get; init; }

        /// <summary>Samples per scoring call (and per training batch sent).</summary>
        public int Chunk { get; init; } = 500;
    }

    public sealed record WindowPoint(DateTime Start, long Samples, long Positives, double? Auc);

    /// <summary>
    /// One run: windowed AUC of the experiment's task (CTR where the log has clicks, else CVR) and, where the task is CTR
    /// and the log has conversions, the clicks' CVR AUC the same way (what delayed conversions change).
    /// </summary>
    public sealed record Run(
        string Strategy, IReadOnlyList<WindowPoint> Windows, double? MeanAuc, double? Auc, double? CvrMeanAuc, int Publishes, int Checkpoints,
        IReadOnlyList<double> DeltaBytes, IReadOnlyList<double> FreshnessMs, double Seconds, IReadOnlyList<string> Events);

    public sealed record Result(string Task, DateTime WarmupEnd, DateTime ReplayEnd, long BaseSamples, long ReplaySamples, Options Options, IReadOnlyList<Run> Runs)
    {
        /// <summary>
        /// Delayed feedback, compared (with an attribution window): no updates (base), waiting for labels (naive), the
        /// correction, and the immediate label (oracle); the share of the oracle's gain over base that the correction closes.
        /// </summary>
        public DelayedComparison? Delayed => DelayedByMethod.FirstOrDefault();

        /// <summary>The comparison for each correction run, in <see cref="Options.Corrections"/> order.</summary>
        public IReadOnlyList<DelayedComparison> DelayedByMethod => Options.AttributionWindow is not { } window ? [] :
            [.. Options.Corrections.Select(m => new DelayedComparison(m, window, MeanOf(RealtimeStrategy.Base.Name), MeanOf(JoinedName), MeanOf(CorrectedName(m)), MeanOf(OracleName)))];

        private double? MeanOf(string strategy) => Runs.FirstOrDefault(x => x.Strategy == strategy)?.CvrMeanAuc;
    }

    public sealed record DelayedComparison(DelayedFeedback Method, TimeSpan Window, double? BaseMeanAuc, double? NaiveMeanAuc, double? CorrectedMeanAuc, double? OracleMeanAuc)
    {
        /// <summary>(corrected - base) / (oracle - base); null when the oracle gains nothing over base.</summary>
        public double? GapClosed => CorrectedMeanAuc - BaseMeanAuc is { } gain && OracleMeanAuc - BaseMeanAuc is { } gap && gap > 1e-9 ? gain / gap : null;

        /// <summary>The same share for the naive wait.</summary>
        public double? NaiveGapClosed => NaiveMeanAuc - BaseMeanAuc is { } gain && OracleMeanAuc - BaseMeanAuc is { } gap && gap > 1e-9 ? gain / gap : null;
    }

    /// <summary>Progress of a run: strategy, samples replayed of the total, the current window's AUC so far, publishes.</summary>
    public sealed record Progress(string Strategy, long Done, long Total, double? CurrentAuc, int Publishes, WeightsVersion? Weights, TimeSpan WeightsAge);
}
