using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
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
        var baseline = r.Runs.FirstOrDefault(x => x.Strategy == "base")?.MeanAuc;
        var b = new StringBuilder();
        b.AppendLine($"{r.Task.ToUpperInvariant()} AUC of what serving answered, {Durations.Format(r.Options.Window)} windows, replay {r.WarmupEnd:u} to {r.ReplayEnd:u} ({r.ReplaySamples:N0} samples); publish every {Durations.Format(r.Options.PublishInterval)} of event time");
        b.AppendLine("| strategy | mean windowed AUC | AUC (all) | gain vs base | publishes | full checkpoints | delta KB p50 | freshness ms p50 | seconds |");
        b.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var x in r.Runs)
        {
            b.AppendLine($"| {x.Strategy} | {F(x.MeanAuc)} | {F(x.Auc)} | {F(x.MeanAuc - baseline, "+0.0000;-0.0000;0.0000")} | {x.Publishes} | {x.Checkpoints} | {F(Percentile(x.DeltaBytes, 0.5) / 1024, "F1")} | {F(Percentile(x.FreshnessMs, 0.5), "F1")} | {x.Seconds:F0} |");
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
        if (r.Runs.FirstOrDefault(x => x.Strategy == RealtimeExperiment.JoinedName) is { } j)
        {
            b.AppendLine($"Delayed conversions: `{RealtimeExperiment.JoinedName}` is part+fresh with CVR labels joined on time (a click reaches training when its conversion arrives, or as a negative when the {(r.Options.AttributionWindow is { } w ? Durations.Format(w) : "")} attribution window closes); `part+fresh` uses the naive immediate label (every click trained at once with its eventual label, which a live system cannot know yet). Mean windowed AUC joined {F(j.MeanAuc)} vs naive {F(r.Runs.FirstOrDefault(x => x.Strategy == "part+fresh")?.MeanAuc)}.");
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

    public static JsonObject Json(RealtimeExperiment.Result r, FeatureSchema s, string data, string report, string command)
    {
        var baseline = r.Runs.FirstOrDefault(x => x.Strategy == "base")?.MeanAuc;
        var strategies = new JsonObject();
        foreach (var x in r.Runs)
        {
            strategies[x.Strategy] = new JsonObject
            {
                ["meanAuc"] = JsonResult.Metric(x.MeanAuc),
                ["auc"] = JsonResult.Metric(x.Auc),
                ["gainVsBase"] = JsonResult.Metric(x.MeanAuc - baseline),
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
        var naive = r.Runs.FirstOrDefault(x => x.Strategy == "part+fresh");
        return new JsonObject
        {
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
