using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Freshet.Cli.Experiments;
using Freshet.Cli.Output;
using Freshet.Model.Data;
using Freshet.Model.Experiments;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using TorchSharp;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet experiment</c>: the method's experiments on a log, with a report.</summary>
public static class ExperimentCommand
{
    public static Command Build(CliContext cli)
    {
        var suite = new Option<string>("--suite") { Description = "offline (next-period gains per strategy)", Required = true };
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON", Required = true };
        var data = new Option<string>("--data") { Description = "Log file, folder, or 'synthetic'", Required = true };
        var period = new Option<string>("--period") { Description = "Offline: the period T (train), T+1 (update), T+2 (evaluate)", DefaultValueFactory = _ => "1d" };
        var strategies = new Option<string?>("--strategies") { Description = "Strategies to compare, comma-separated (offline default base,mlp,part,part+fresh,all; realtime default base,part,part+fresh,all,promotion)" };
        var interval = new Option<string>("--interval") { Description = "Realtime: event time between publishes", DefaultValueFactory = _ => "1h" };
        var window = new Option<string>("--window") { Description = "Realtime: windowed AUC's window, e.g. 30m, 1h", DefaultValueFactory = _ => "1h" };
        var warmup = new Option<string?>("--warmup") { Description = "Realtime: the base model's span from the log's start (default a quarter of the log, at most 1d)" };
        var every = new Option<string>("--every") { Description = "Realtime, promotion: Model A's checkpoint period", DefaultValueFactory = _ => "6h" };
        var t1 = new Option<string?>("--updates-start") { Description = "Realtime scenario: real-time updates start this long after the replay's start (T1)" };
        var t2 = new Option<string?>("--full-update-at") { Description = "Realtime scenario: a full update this long after the replay's start (T2)" };
        var t3 = new Option<string?>("--updates-stop") { Description = "Realtime scenario: real-time updates stop this long after the replay's start (T3)" };
        var attribution = new Option<string?>("--attribution-window") { Description = "Realtime: also run part+fresh with delayed conversions joined on time (a click is a negative once this window closes without a conversion)" };
        var samples = new Option<long?>("--samples") { Description = "Samples to read (default: all of a log; 600000 of the synthetic stream)" };
        var windows = new Option<int?>("--max-windows") { Description = "Offline: at most this many (latest) windows" };
        var output = new Option<string?>("--out") { Description = "Folder for report.md and the charts (default experiments/SUITE-SCHEMA-TIME)" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("experiment", "Run the method's experiments on a log and write a report")
        {
            suite, schema, data, period, strategies, samples, windows, interval, window, warmup, every, t1, t2, t3, attribution, output, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var suiteName = p.GetValue(suite)!;
            if (suiteName is not ("offline" or "realtime")) throw new ArgumentException($"--suite: '{suiteName}' is not a suite; use offline or realtime");
            if (suiteName == "realtime")
            {
                var options = RealtimeOptions(p.GetValue(strategies), p.GetValue(interval)!, p.GetValue(window)!, p.GetValue(warmup), p.GetValue(every)!, p.GetValue(t1), p.GetValue(t2), p.GetValue(t3))
                    with { AttributionWindow = p.GetValue(attribution) is { } a ? Durations.Parse(a, "--attribution-window") : null };
                return await RunRealtimeAsync(cli, p.GetValue(schema)!, p.GetValue(data)!, p.GetValue(samples), options, p.GetValue(output), "realtime", p.GetValue(json), ct);
            }
            var list = ParseStrategies(p.GetValue(strategies) ?? "base,mlp,part,part+fresh,all");
            var per = Durations.Parse(p.GetValue(period)!, "--period");
            if (per <= TimeSpan.Zero) throw new ArgumentException("--period: must be positive");
            var (result, s, report) = await RunOfflineAsync(cli, p.GetValue(schema)!, p.GetValue(data)!, p.GetValue(samples), per, list, p.GetValue(windows), p.GetValue(output), CommandLine(), ct);
            await cli.Out.WriteLineAsync(SummaryTable(result));
            await cli.Out.WriteLineAsync($"report: {report}");
            if (p.GetValue(json)) JsonResult.Write(cli.Out, OfflineJson(result, s, p.GetValue(data)!, report));
            return 0;
        });
        return cmd;
    }

    /// <summary>This process's command line, as the reports quote it.</summary>
    public static string CommandLine() => "freshet " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));

    /// <summary>Runs the offline suite and writes its report and chart into <paramref name="output"/> (or a new folder under experiments/).</summary>
    public static async Task<(OfflineExperiment.Result Result, FeatureSchema Schema, string Report)> RunOfflineAsync(
        CliContext cli, string schemaPath, string data, long? samples, TimeSpan per, IReadOnlyList<TrainingPlan> list, int? maxWindows, string? output, string command, CancellationToken ct)
    {
        var s = SchemaLoader.Load(schemaPath);
        var reader = SampleReader.Open(s, data); // a log without the schema's columns fails here, before any training
        var limit = samples ?? (data == SampleReader.SyntheticData ? 600_000 : null);
        await cli.Error.WriteLineAsync($"experiment: reading {data}");
        var periods = OfflineExperiment.SplitPeriods(reader.Read(limit, ct), per);
        OfflineExperiment.Validate(periods, per);
        torch.set_num_threads(Environment.ProcessorCount);
        var folder = output ?? Path.Combine("experiments", $"offline-{s.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(folder);
        var scratch = Path.Combine(Path.GetTempPath(), "freshet-experiment-" + Guid.NewGuid().ToString("N"));
        OfflineExperiment.Result result;
        try
        {
            result = await OfflineExperiment.RunAsync(s, periods, new OfflineExperiment.Options { Period = per, Strategies = list, MaxWindows = maxWindows }, scratch,
                m => cli.Error.WriteLine($"experiment: {m}"), ct);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        var report = Path.Combine(folder, "report.md");
        var charts = Charts.Offline(result, folder);
        await File.WriteAllTextAsync(report, OfflineReport(result, s, data, command) + string.Concat(charts.Select(c => $"\n![{Path.GetFileNameWithoutExtension(c)}]({Path.GetFileName(c)})\n")), ct);
        return (result, s, report);
    }

    public static RealtimeExperiment.Options RealtimeOptions(string? strategies, string interval, string window, string? warmup, string every, string? t1, string? t2, string? t3)
    {
        TimeSpan? Optional(string? text, string what) => text is null ? null : Durations.Parse(text, what);
        var options = new RealtimeExperiment.Options
        {
            Strategies = strategies is null ? RealtimeExperiment.AllStrategies : [.. strategies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct()],
            PublishInterval = Durations.Parse(interval, "--interval"),
            Window = Durations.Parse(window, "--window"),
            Warmup = Optional(warmup, "--warmup"),
            PromotionEvery = Durations.Parse(every, "--every"),
            UpdatesStart = Optional(t1, "--updates-start"),
            FullUpdateAt = Optional(t2, "--full-update-at"),
            UpdatesStop = Optional(t3, "--updates-stop"),
        };
        RealtimeExperiment.Validate(options);
        return options;
    }

    /// <summary>Runs the real-time experiment and writes its report (shared by <c>experiment --suite realtime</c> and <c>demo</c>).</summary>
    public static async Task<int> RunRealtimeAsync(CliContext cli, string schemaPath, string data, long? samples, RealtimeExperiment.Options options, string? output, string name, bool json, CancellationToken ct, FeatureSchema? schema = null)
    {
        var (result, s, report) = await RunRealtimeCoreAsync(cli, schemaPath, data, samples, options, output, name, CommandLine(), ct, schema);
        await cli.Out.WriteLineAsync(RealtimeReport.Table(result));
        await cli.Out.WriteLineAsync($"report: {report}");
        if (json) JsonResult.Write(cli.Out, RealtimeReport.Json(result, s, data, report, name == "demo" ? "demo" : "experiment"));
        return 0;
    }

    /// <summary>Runs the real-time suite and writes its report and charts into <paramref name="output"/> (or a new folder under experiments/).</summary>
    public static async Task<(RealtimeExperiment.Result Result, FeatureSchema Schema, string Report)> RunRealtimeCoreAsync(
        CliContext cli, string schemaPath, string data, long? samples, RealtimeExperiment.Options options, string? output, string name, string command, CancellationToken ct, FeatureSchema? schema = null)
    {
        var s = schema ?? SchemaLoader.Load(schemaPath);
        var reader = SampleReader.Open(s, data); // a log without the schema's columns fails here, before any training
        var limit = samples ?? (data == SampleReader.SyntheticData ? 240_000 : null);
        await cli.Error.WriteLineAsync($"{name}: reading {data}");
        var all = reader.Read(limit, ct).ToList();
        torch.set_num_threads(Environment.ProcessorCount);
        var folder = output ?? Path.Combine("experiments", $"{name}-{s.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(folder);
        var bar = new ProgressBar(cli.Error, cli.Interactive, all.Count * (options.Strategies.Count + (options.AttributionWindow is null ? 0 : 1)));
        var doneBefore = 0L;
        var current = "";
        var result = await RealtimeExperiment.RunAsync(s, all, options, folder, m => cli.Error.WriteLine($"{name}: {m}"), pr =>
        {
            if (pr.Strategy != current)
            {
                if (current != "") doneBefore += pr.Total;
                current = pr.Strategy;
            }
            bar.Report(doneBefore + pr.Done, $"{pr.Strategy}: {pr.Done:N0}/{pr.Total:N0}, window AUC {(pr.CurrentAuc is { } a ? a.ToString("F3", CultureInfo.InvariantCulture) : "-")}, {pr.Publishes} publishes, serving {pr.Weights?.ToString() ?? "-"}, weights {pr.WeightsAge.TotalSeconds:F1} s old");
        }, ct);
        bar.Done();
        var charts = Charts.Realtime(result, folder);
        var report = Path.Combine(folder, "report.md");
        await File.WriteAllTextAsync(report, RealtimeReport.Markdown(result, s, data, command, charts), ct);
        var checkpoints = Path.Combine(folder, "checkpoints");
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
        return (result, s, report);
    }

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

    private static string OfflineReport(OfflineExperiment.Result r, FeatureSchema s, string data, string command)
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

    private static JsonObject OfflineJson(OfflineExperiment.Result r, FeatureSchema s, string data, string report)
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
