using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using TorchSharp;

namespace Freshet.Experiments;

/// <summary>The offline suite end to end: read a log, run <see cref="OfflineExperiment"/>, write its report and chart, and say it as a table or JSON.</summary>
public static class OfflineSuite
{
    /// <summary>Runs the suite and writes its report and chart into <paramref name="output"/> (or a new folder under experiments/).</summary>
    public static async Task<(OfflineExperiment.Result Result, FeatureSchema Schema, string Report)> RunAsync(
        string schemaPath, string data, long? samples, TimeSpan per, IReadOnlyList<TrainingPlan> plans, int? maxWindows, string? output, string command, Action<string> log, CancellationToken ct)
    {
        var s = SchemaLoader.Load(schemaPath);
        var reader = SampleReader.Open(s, data); // a log without the schema's columns fails here, before any training
        var limit = samples ?? (data == SampleReader.SyntheticData ? 600_000 : null);
        log($"experiment: reading {data}");
        var periods = OfflineExperiment.SplitPeriods(reader.Read(limit, ct), per);
        OfflineExperiment.Validate(periods, per);
        torch.set_num_threads(Environment.ProcessorCount);
        var folder = output ?? Path.Combine("experiments", $"offline-{s.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(folder);
        var scratch = Path.Combine(Path.GetTempPath(), "freshet-experiment-" + Guid.NewGuid().ToString("N"));
        OfflineExperiment.Result result;
        try
        {
            result = await OfflineExperiment.RunAsync(s, periods, new OfflineExperiment.Options { Period = per, Strategies = plans, MaxWindows = maxWindows }, scratch,
                m => log($"experiment: {m}"), ct);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        var report = Path.Combine(folder, "report.md");
        var charts = Charts.Offline(result, folder);
        await File.WriteAllTextAsync(report, Markdown(result, s, data, command) + string.Concat(charts.Select(c => $"\n![{Path.GetFileNameWithoutExtension(c)}]({Path.GetFileName(c)})\n")), ct);
        return (result, s, report);
    }

    /// <summary>Plans named comma-separated (base is always added: gains are measured against it), in the method's order.</summary>
    public static IReadOnlyList<TrainingPlan> ParseStrategies(string text)
    {
        var result = new List<TrainingPlan>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TrainingPlan.TryParse(name, out var st)) throw new ArgumentException($"--strategies: '{name}' is not a strategy; use base, mlp, part, part+fresh or all");
            if (!result.Contains(st)) result.Add(st);
        }
        if (result.Count == 0) throw new ArgumentException("--strategies: name at least one strategy");
        if (!result.Contains(Strategy.Base)) result.Insert(0, Strategy.Base); // gains are measured against base
        return [.. TrainingPlan.Ordered.Where(result.Contains)];
    }

    private static string F(double? v, string format = "F4") => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "-";

    public static string SummaryTable(OfflineExperiment.Result r)
    {
        var b = new StringBuilder();
        b.AppendLine($"mean over {r.Windows.Count} window(s), period {Durations.Format(r.Period)}; gains on {r.PrimaryMetric}");
        b.AppendLine("| strategy | CTR AUC | CVR AUC | group AUC | CTR log-loss | gain vs base | relative | share of all's gain |");
        b.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var x in r.Summaries)
        {
            b.AppendLine($"| {x.Plan.Name} | {F(x.CtrAuc)} | {F(x.CvrAuc)} | {F(x.GroupAuc)} | {F(x.CtrLogLoss)} | {F(x.Gain, "+0.0000;-0.0000;0.0000")} | {F(x.RelativeGain * 100, "+0.00;-0.00;0.00")}% | {F(x.ShareOfAll * 100, "F0")}% |");
        }
        return b.ToString();
    }

    private static string Markdown(OfflineExperiment.Result r, FeatureSchema s, string data, string command)
    {
        var b = new StringBuilder();
        b.AppendLine($"# Offline next-period gains: {s.Name}");
        b.AppendLine();
        b.AppendLine($"Log `{data}`, period {Durations.Format(r.Period)}: a base model trained on period T, a copy updated with period T+1 under each strategy, each evaluated without training on T+2. Command:");
        b.AppendLine();
        b.AppendLine("```sh");
        b.AppendLine(command);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine(SummaryTable(r));
        b.AppendLine("Per window:");
        b.AppendLine();
        b.AppendLine("| window | train | update | evaluate (samples) | " + string.Join(" | ", r.Summaries.Select(x => x.Plan.Name)) + " |");
        b.AppendLine("|---|---|---|---|" + string.Concat(r.Summaries.Select(_ => "---|")));
        foreach (var w in r.Windows)
        {
            var cells = r.Summaries.Select(x => w.Results.FirstOrDefault(q => q.Plan == x.Plan) is { } q ? F(r.PrimaryMetric == "ctrAuc" ? q.CtrAuc : q.CvrAuc) : "-");
            b.AppendLine($"| {w.Index} | {w.TrainStart:yyyy-MM-dd HH:mm} ({w.TrainSamples:N0}) | {w.UpdateStart:yyyy-MM-dd HH:mm} ({w.UpdateSamples:N0}) | {w.EvalStart:yyyy-MM-dd HH:mm} ({w.EvalSamples:N0}) | {string.Join(" | ", cells)} |");
        }
        return b.ToString();
    }

    /// <summary>The suite's <c>--json</c> result; its field names are a contract.</summary>
    public static JsonObject Json(OfflineExperiment.Result r, FeatureSchema s, string data, string report)
    {
        JsonObject Metrics(double? ctr, double? cvr, double? group, double? ctrLoss, double? cvrLoss) => new()
        {
            ["ctrAuc"] = JsonResult.Metric(ctr), ["cvrAuc"] = JsonResult.Metric(cvr), ["groupAuc"] = JsonResult.Metric(group),
            ["ctrLogLoss"] = JsonResult.Metric(ctrLoss), ["cvrLogLoss"] = JsonResult.Metric(cvrLoss),
        };
        var strategies = new JsonObject();
        foreach (var x in r.Summaries)
        {
            var m = Metrics(x.CtrAuc, x.CvrAuc, x.GroupAuc, x.CtrLogLoss, x.CvrLogLoss);
            m["gainVsBase"] = JsonResult.Metric(x.Gain);
            m["relativeGainVsBase"] = JsonResult.Metric(x.RelativeGain);
            m["shareOfAllGain"] = JsonResult.Metric(x.ShareOfAll);
            strategies[x.Plan.Name] = m;
        }
        return new JsonObject
        {
            ["command"] = "experiment",
            ["suite"] = "offline",
            ["schema"] = s.Name,
            ["data"] = data,
            ["period"] = Durations.Format(r.Period),
            ["primaryMetric"] = r.PrimaryMetric,
            ["strategies"] = strategies,
            ["windows"] = new JsonArray([.. r.Windows.Select(w => (JsonNode)new JsonObject
            {
                ["index"] = w.Index,
                ["trainStart"] = w.TrainStart.ToString("O", CultureInfo.InvariantCulture),
                ["updateStart"] = w.UpdateStart.ToString("O", CultureInfo.InvariantCulture),
                ["evalStart"] = w.EvalStart.ToString("O", CultureInfo.InvariantCulture),
                ["evalEnd"] = w.EvalEnd.ToString("O", CultureInfo.InvariantCulture),
                ["trainSamples"] = w.TrainSamples, ["updateSamples"] = w.UpdateSamples, ["evalSamples"] = w.EvalSamples,
                ["results"] = new JsonObject(w.Results.Select(q => KeyValuePair.Create(q.Plan.Name, (JsonNode?)Metrics(q.CtrAuc, q.CvrAuc, q.GroupAuc, q.CtrLogLoss, q.CvrLogLoss)))),
            })]),
            ["report"] = report,
        };
    }
}
