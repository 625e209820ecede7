using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Freshet.Model.Feedback;
using Freshet.Model.Schema;

namespace Freshet.Experiments;

/// <summary>The real-time experiment's summary table, report and JSON.</summary>
public static class RealtimeReport
{
    private static string F(double? v, string format = "F4") => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static double? Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(q * sorted.Length) - 1)];
    }

    public static string Table(RealtimeExperiment.Result r)
    {
        var baseline = r.Runs.FirstOrDefault(x => x.Strategy == RealtimeStrategy.Base.Name)?.MeanAuc;
        var b = new StringBuilder();
        b.AppendLine($"{r.Task.ToUpperInvariant()} AUC of what serving answered, {Durations.Format(r.Options.Window)} windows, replay {r.WarmupEnd:u} to {r.ReplayEnd:u} ({r.ReplaySamples:N0} samples); publish every {Durations.Format(r.Options.PublishInterval)} of event time");
        // Where the task is CTR, the clicks' CVR AUC too: delayed conversions change it, not CTR's.
        var cvr = r.Task == "ctr" && r.Runs.Any(x => x.CvrMeanAuc is not null);
        b.AppendLine("| strategy | mean windowed AUC | AUC (all) | gain vs base |" + (cvr ? " CVR mean windowed AUC |" : "") + " publishes | full checkpoints | delta KB p50 | freshness ms p50 | seconds |");
        b.AppendLine("|---|---|---|---|" + (cvr ? "---|" : "") + "---|---|---|---|---|");
        foreach (var x in r.Runs)
        {
            b.AppendLine($"| {x.Strategy} | {F(x.MeanAuc)} | {F(x.Auc)} | {F(x.MeanAuc - baseline, "+0.0000;-0.0000;0.0000")} |" + (cvr ? $" {F(x.CvrMeanAuc)} |" : "")
                + $" {x.Publishes} | {x.Checkpoints} | {F(Percentile(x.DeltaBytes, 0.5) / 1024, "F1")} | {F(Percentile(x.FreshnessMs, 0.5), "F1")} | {x.Seconds:F0} |");
        }
        return b.ToString();
    }

    public static string Markdown(RealtimeExperiment.Result r, FeatureSchema s, string data, string command, IReadOnlyList<string> charts)
    {
        var b = new StringBuilder();
        b.AppendLine($"# Real-time gains: {s.Name}");
        b.AppendLine();
        b.AppendLine($"Log `{data}`. A base model trained on the log up to {r.WarmupEnd:u} ({r.BaseSamples:N0} samples); the rest replayed on event time through a local cluster once per strategy. Every sample was scored by the serving replica (through the client) before the trainer saw its label; the AUC below is of those answers.");
        b.AppendLine();
        b.AppendLine("Strategies: `base` no updates; `part` changing and dense tiers every interval (frozen tier as in the base); `part+fresh` the same plus frozen rows of ids new since the base (the main job trains every tier, deltas carry changing, dense and fresh rows); `all` every tier every interval (a full checkpoint per interval); `promotion` Model A trains every tier and checkpoints every " + Durations.Format(r.Options.PromotionEvery) + ", Model B (frozen tier locked) publishes deltas on A's latest checkpoint.");
        if (r.Options.UpdatesStart is not null || r.Options.FullUpdateAt is not null || r.Options.UpdatesStop is not null)
        {
            b.AppendLine();
            b.AppendLine($"Scenario (from the replay's start): updates start at {(r.Options.UpdatesStart is { } a ? Durations.Format(a) : "0")}, a full update at {(r.Options.FullUpdateAt is { } f ? Durations.Format(f) : "-")}, updates stop at {(r.Options.UpdatesStop is { } z ? Durations.Format(z) : "-")}.");
        }
        b.AppendLine();
        b.AppendLine("```sh");
        b.AppendLine(command);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine(Table(r));
        foreach (var d in r.DelayedByMethod)
        {
            b.AppendLine(Delayed(d));
            b.AppendLine();
        }
        foreach (var c in charts) b.AppendLine($"![{Path.GetFileNameWithoutExtension(c)}]({Path.GetFileName(c)})").AppendLine();
        b.AppendLine("Windowed AUC per strategy:");
        b.AppendLine();
        b.AppendLine("| window | samples | " + string.Join(" | ", r.Runs.Select(x => x.Strategy)) + " |");
        b.AppendLine("|---|---|" + string.Concat(r.Runs.Select(_ => "---|")));
        var starts = r.Runs.SelectMany(x => x.Windows.Select(w => w.Start)).Distinct().Order();
        foreach (var t in starts)
        {
            var n = r.Runs[0].Windows.FirstOrDefault(w => w.Start == t)?.Samples ?? 0;
            b.AppendLine($"| {t:yyyy-MM-dd HH:mm} | {n:N0} | " + string.Join(" | ", r.Runs.Select(x => F(x.Windows.FirstOrDefault(w => w.Start == t)?.Auc))) + " |");
        }
        var events = r.Runs.Where(x => x.Events.Count > 0).ToList();
        if (events.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("Transitions:");
            b.AppendLine();
            foreach (var x in events)
            {
                foreach (var e in x.Events.Take(40)) b.AppendLine($"- {x.Strategy}: {e}");
            }
        }
        return b.ToString();
    }

    /// <summary>The delayed-feedback comparison in words, for the report and the results page.</summary>
    public static string Delayed(RealtimeExperiment.DelayedComparison d) =>
        $"Delayed conversions ({Durations.Format(d.Window)} attribution window; docs/FEEDBACK.md): `{RealtimeExperiment.JoinedName}` waits for each click's label "
        + $"(trained when its conversion arrives, or as a negative when the window closes); `{RealtimeExperiment.CorrectedName(d.Method)}` {Describe(d.Method)}; "
        + $"`{RealtimeExperiment.OracleName}` has every label at once, which a live system cannot. Mean windowed AUC: base {F(d.BaseMeanAuc)}, "
        + $"waiting {F(d.NaiveMeanAuc)}, {d.Method.Name()} {F(d.CorrectedMeanAuc)}, immediate labels {F(d.OracleMeanAuc)}: {d.Method.Name()} closes "
        + $"{Share(d.GapClosed)} of the gap from base to the immediate labels (waiting closes {Share(d.NaiveGapClosed)}).";

    private static string Describe(DelayedFeedback method) => method switch
    {
        DelayedFeedback.Fnw => "trains each click at once as a negative and again as a positive when its conversion arrives, importance-weighted (FNW, Ktena et al., RecSys 2019)",
        DelayedFeedback.Defer => "trains each click at once as a negative and again with its real label, when its conversion arrives or its window closes, importance-weighted (DEFER, Gu et al., KDD 2021)",
        _ => "waits for each label",
    };

    private static string Share(double? x) => x is { } v ? v.ToString("P0", CultureInfo.InvariantCulture) : "-";

    public static JsonObject Json(RealtimeExperiment.Result r, FeatureSchema s, string data, string report, string command)
    {
        var baseline = r.Runs.FirstOrDefault(x => x.Strategy == RealtimeStrategy.Base.Name)?.MeanAuc;
        var strategies = new JsonObject();
        foreach (var x in r.Runs)
        {
            strategies[x.Strategy] = new JsonObject
            {
                ["meanAuc"] = JsonResult.Metric(x.MeanAuc),
                ["auc"] = JsonResult.Metric(x.Auc),
                ["gainVsBase"] = JsonResult.Metric(x.MeanAuc - baseline),
                ["cvrMeanAuc"] = JsonResult.Metric(x.CvrMeanAuc),
                ["publishes"] = x.Publishes,
                ["fullCheckpoints"] = x.Checkpoints,
                ["deltaBytesP50"] = JsonResult.Metric(Percentile(x.DeltaBytes, 0.5), 0),
                ["freshnessMsP50"] = JsonResult.Metric(Percentile(x.FreshnessMs, 0.5), 1),
                ["seconds"] = Math.Round(x.Seconds, 1),
                ["windows"] = new JsonArray([.. x.Windows.Select(w => (JsonNode)new JsonObject
                {
                    ["time"] = w.Start.ToString("O", CultureInfo.InvariantCulture), ["samples"] = w.Samples, ["positives"] = w.Positives, ["auc"] = JsonResult.Metric(w.Auc),
                })]),
            };
        }
        var joined = r.Runs.FirstOrDefault(x => x.Strategy == RealtimeExperiment.JoinedName);
        var naive = r.Runs.FirstOrDefault(x => x.Strategy == RealtimeStrategy.PartFresh.Name);
        var d = r.Delayed;
        return new JsonObject
        {
            ["delayed"] = d is null ? null : new JsonObject
            {
                ["method"] = d.Method.Name(),
                ["attributionWindow"] = Durations.Format(d.Window),
                ["baseMeanAuc"] = JsonResult.Metric(d.BaseMeanAuc),
                ["naiveMeanAuc"] = JsonResult.Metric(d.NaiveMeanAuc),
                ["correctedMeanAuc"] = JsonResult.Metric(d.CorrectedMeanAuc),
                ["oracleMeanAuc"] = JsonResult.Metric(d.OracleMeanAuc),
                ["gapClosed"] = JsonResult.Metric(d.GapClosed),
                ["naiveGapClosed"] = JsonResult.Metric(d.NaiveGapClosed),
            },
            ["delayedMethods"] = r.DelayedByMethod.Count == 0 ? null : new JsonObject(r.DelayedByMethod.Select(m => KeyValuePair.Create(m.Method.Name(), (JsonNode?)new JsonObject
            {
                ["correctedMeanAuc"] = JsonResult.Metric(m.CorrectedMeanAuc),
                ["gapClosed"] = JsonResult.Metric(m.GapClosed),
            }))),
            ["delayedJoin"] = joined is null ? null : new JsonObject
            {
                ["attributionWindow"] = r.Options.AttributionWindow is { } w ? Durations.Format(w) : null,
                ["joinedMeanAuc"] = JsonResult.Metric(joined.MeanAuc),
                ["joinedAuc"] = JsonResult.Metric(joined.Auc),
                ["naiveMeanAuc"] = JsonResult.Metric(naive?.MeanAuc),
                ["naiveAuc"] = JsonResult.Metric(naive?.Auc),
            },
            ["command"] = command,
            ["suite"] = "realtime",
            ["schema"] = s.Name,
            ["data"] = data,
            ["task"] = r.Task,
            ["publishInterval"] = Durations.Format(r.Options.PublishInterval),
            ["window"] = Durations.Format(r.Options.Window),
            ["warmupEnd"] = r.WarmupEnd.ToString("O", CultureInfo.InvariantCulture),
            ["baseSamples"] = r.BaseSamples,
            ["replaySamples"] = r.ReplaySamples,
            ["strategies"] = strategies,
            ["report"] = report,
        };
    }
}
