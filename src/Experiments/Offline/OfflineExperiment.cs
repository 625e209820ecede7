using Freshet.Model.Metrics;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Experiments;

/// <summary>
/// Offline next-period gains (the seed's first experiment): a base model trained on period T, a copy
/// updated with period T+1 under each strategy, every copy evaluated (frozen, without training) on
/// period T+2; T slides over the log.
/// </summary>
public static class OfflineExperiment
{
    public sealed record Options
    {
        public TimeSpan Period { get; init; } = TimeSpan.FromDays(1);

        public IReadOnlyList<TrainingPlan> Strategies { get; init; } = TrainingPlan.Ordered;

        /// <summary>At most this many windows (the latest ones); null: every window the log has.</summary>
        public int? MaxWindows { get; init; }

        public TimeSpan MetricWindow { get; init; } = TimeSpan.FromHours(1);
    }

    /// <summary>One strategy's evaluation on one window's T+2.</summary>
    public sealed record StrategyResult(TrainingPlan Plan, double? CtrAuc, double? CtrLogLoss, double? CvrAuc, double? CvrLogLoss, double? GroupAuc, long Samples);

    public sealed record Window(int Index, DateTime TrainStart, DateTime UpdateStart, DateTime EvalStart, DateTime EvalEnd, long TrainSamples, long UpdateSamples, long EvalSamples, IReadOnlyList<StrategyResult> Results);

    /// <summary>A strategy over every window: mean metrics, and its gain over base on the primary metric.</summary>
    public sealed record Summary(TrainingPlan Plan, double? CtrAuc, double? CvrAuc, double? GroupAuc, double? CtrLogLoss, double? CvrLogLoss, double? Gain, double? RelativeGain, double? ShareOfAll);

    /// <param name="PrimaryMetric"><c>ctrAuc</c> where the log has clicks, else <c>cvrAuc</c>: the metric gains are measured on.</param>
    public sealed record Result(string PrimaryMetric, TimeSpan Period, IReadOnlyList<Window> Windows, IReadOnlyList<Summary> Summaries);

    /// <summary>Splits samples (in event-time order) into periods aligned to midnight UTC when the period is whole days.</summary>
    public static List<List<Sample>> SplitPeriods(IEnumerable<Sample> samples, TimeSpan period)
    {
        var periods = new List<List<Sample>>();
        long? origin = null;
        foreach (var s in samples)
        {
            origin ??= period.Ticks % TimeSpan.TicksPerDay == 0 ? s.Time - s.Time % TimeSpan.TicksPerDay : s.Time;
            var index = (int)((s.Time - origin.Value) / period.Ticks);
            while (periods.Count <= index) periods.Add([]);
            periods[index].Add(s);
        }
        return periods;
    }

    /// <summary>Checks that the log holds at least three periods (train, update, evaluate); the message says what it holds.</summary>
    public static void Validate(IReadOnlyList<List<Sample>> periods, TimeSpan period)
    {
        if (periods.Count(p => p.Count > 0) == 0) throw new ArgumentException("the log has no samples");
        if (periods.Count < 3)
        {
            var first = new DateTime(periods.First(p => p.Count > 0)[0].Time, DateTimeKind.Utc);
            var last = new DateTime(periods.Last(p => p.Count > 0)[^1].Time, DateTimeKind.Utc);
            throw new ArgumentException($"--period {Durations.Format(period)}: the log spans {first:u} to {last:u} ({periods.Count} period(s)); the experiment needs three (train on T, update on T+1, evaluate on T+2): use a shorter period");
        }
    }

    public static async Task<Result> RunAsync(FeatureSchema schema, IReadOnlyList<List<Sample>> periods, Options options, string scratch, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(periods, options.Period);
        var windows = new List<Window>();
        var starts = Enumerable.Range(0, periods.Count - 2).Where(t => periods[t].Count > 0 && periods[t + 1].Count > 0 && periods[t + 2].Count > 0).ToList();
        if (starts.Count == 0) throw new ArgumentException($"--period {Durations.Format(options.Period)}: no three consecutive periods of the log all have samples; use another period");
        if (options.MaxWindows is { } max) starts = [.. starts.TakeLast(max)];
        foreach (var t in starts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var store = new LocalCheckpointStore(Path.Combine(scratch, $"window-{t}"));
            progress?.Invoke($"window {t}: training the base model on period {t} ({periods[t].Count:N0} samples)");
            using (var baseModel = new InProcessParameterStore(schema))
            {
                baseModel.StartFrom(Strategy.All);
                await new StreamingTrainer(schema, baseModel, new TrainerOptions { Plan = Strategy.All, Window = options.MetricWindow, Evaluation = EvaluationDetail.PerSample }).ReplayAsync(periods[t], cancellationToken);
                await ModelCheckpoint.SaveAsync(store, baseModel, new DateTime(periods[t][^1].Time, DateTimeKind.Utc), periods[t].Count, "all", cancellationToken);
            }
            var results = new List<StrategyResult>();
            foreach (var strategy in options.Strategies)
            {
                progress?.Invoke($"window {t}: {strategy.Name}: update on period {t + 1} ({periods[t + 1].Count:N0}), evaluate on period {t + 2} ({periods[t + 2].Count:N0})");
                using var model = new InProcessParameterStore(schema);
                await ModelCheckpoint.LoadAsync(store, model, cancellationToken: cancellationToken);
                model.StartFrom(strategy);
                if (strategy.Strategy != Strategy.Base)
                {
                    await new StreamingTrainer(schema, model, new TrainerOptions { Plan = strategy, Window = options.MetricWindow, Evaluation = EvaluationDetail.PerSample }).ReplayAsync(periods[t + 1], cancellationToken);
                }
                model.StartFrom(Strategy.Base);
                var eval = await new StreamingTrainer(schema, model, new TrainerOptions { Plan = Strategy.Base, Window = options.MetricWindow, ExpireEvery = TimeSpan.Zero, Evaluation = EvaluationDetail.PerSample })
                    .ReplayAsync(periods[t + 2], cancellationToken);
                results.Add(new StrategyResult(strategy, eval.Ctr.Auc, eval.Ctr.LogLoss, eval.Cvr.Auc, eval.Cvr.LogLoss, eval.Ctr.GroupAuc ?? eval.Cvr.GroupAuc, eval.Samples));
            }
            windows.Add(new Window(t, Start(periods[t]), Start(periods[t + 1]), Start(periods[t + 2]), new DateTime(periods[t + 2][^1].Time, DateTimeKind.Utc),
                periods[t].Count, periods[t + 1].Count, periods[t + 2].Count, results));
        }
        var primary = schema.HasClicks ? "ctrAuc" : "cvrAuc";
        return new Result(primary, options.Period, windows, Summarize(windows, options.Strategies, primary));
    }

    private static DateTime Start(List<Sample> period) => new(period[0].Time, DateTimeKind.Utc);

    private static List<Summary> Summarize(List<Window> windows, IReadOnlyList<TrainingPlan> strategies, string primary)
    {
        double? Mean(TrainingPlan s, Func<StrategyResult, double?> metric)
        {
            var values = windows.Select(w => w.Results.FirstOrDefault(r => r.Plan == s)).OfType<StrategyResult>().Select(metric).OfType<double>().ToList();
            return values.Count == 0 ? null : values.Average();
        }
        double? Primary(TrainingPlan s) => primary == "ctrAuc" ? Mean(s, r => r.CtrAuc) : Mean(s, r => r.CvrAuc);
        var baseValue = Primary(Strategy.Base);
        var allGain = Primary(Strategy.All) - baseValue;
        return [.. strategies.Select(s =>
        {
            var gain = Primary(s) - baseValue;
            return new Summary(s, Mean(s, r => r.CtrAuc), Mean(s, r => r.CvrAuc), Mean(s, r => r.GroupAuc), Mean(s, r => r.CtrLogLoss), Mean(s, r => r.CvrLogLoss),
                gain, gain / baseValue, allGain is { } a && Math.Abs(a) > 1e-12 ? gain / a : null);
        })];
    }
}
