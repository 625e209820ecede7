using System.CommandLine;
using Freshet.Tools.Output;
using Freshet.Experiments;
using Freshet.Model.Feedback;
using Freshet.Model.Schema;

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
        var attribution = new Option<string?>("--attribution-window") { Description = "Realtime: compare delayed-feedback handling: part+fresh waiting for each click's conversion or this window's close (naive), corrected (--feedback), and with immediate labels" };
        var feedback = new Option<string>("--feedback") { Description = "Realtime, with --attribution-window: the corrections to compare, comma-separated: fnw, defer", DefaultValueFactory = _ => "fnw" };
        var delay = new Option<string?>("--conversion-delay") { Description = "Realtime, synthetic stream: median delay from a click to its conversion, e.g. 3h (default: the schema's conversionDelayMedian)" };
        var samples = new Option<long?>("--samples") { Description = "Samples to read (default: all of a log; 600000 of the synthetic stream)" };
        var windows = new Option<int?>("--max-windows") { Description = "Offline: at most this many (latest) windows" };
        var output = new Option<string?>("--out") { Description = "Folder for report.md and the charts (default experiments/SUITE-SCHEMA-TIME)" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("experiment", "Run the method's experiments on a log and write a report")
        {
            suite, schema, data, period, strategies, samples, windows, interval, window, warmup, every, t1, t2, t3, attribution, feedback, delay, output, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var suiteName = p.GetValue(suite)!;
            if (suiteName is not ("offline" or "realtime")) throw new ArgumentException($"--suite: '{suiteName}' is not a suite; use offline or realtime");
            if (suiteName == "realtime")
            {
                var options = RealtimeSuite.Options(p.GetValue(strategies), p.GetValue(interval)!, p.GetValue(window)!, p.GetValue(warmup), p.GetValue(every)!, p.GetValue(t1), p.GetValue(t2), p.GetValue(t3))
                    with
                    {
                        AttributionWindow = p.GetValue(attribution) is { } a ? Durations.Parse(a, "--attribution-window") : null,
                        ConversionDelay = p.GetValue(delay) is { } d ? Durations.Parse(d, "--conversion-delay") : null,
                        Corrections = ParseCorrections(p.GetValue(feedback)!),
                    };
                RealtimeExperiment.Validate(options);
                return await RunRealtimeAsync(cli, p.GetValue(schema)!, p.GetValue(data)!, p.GetValue(samples), options, p.GetValue(output), "realtime", p.GetValue(json), ct);
            }
            var list = OfflineSuite.ParseStrategies(p.GetValue(strategies) ?? "base,mlp,part,part+fresh,all");
            var per = Durations.Parse(p.GetValue(period)!, "--period");
            if (per <= TimeSpan.Zero) throw new ArgumentException("--period: must be positive");
            var (result, s, report) = await OfflineSuite.RunAsync(p.GetValue(schema)!, p.GetValue(data)!, p.GetValue(samples), per, list, p.GetValue(windows), p.GetValue(output), CommandLine(),
                m => cli.Error.WriteLine(m), ct);
            await cli.Out.WriteLineAsync(OfflineSuite.SummaryTable(result));
            await cli.Out.WriteLineAsync($"report: {report}");
            if (p.GetValue(json)) JsonResult.Write(cli.Out, OfflineSuite.Json(result, s, p.GetValue(data)!, report));
            return 0;
        });
        return cmd;

        static IReadOnlyList<DelayedFeedback> ParseCorrections(string text) => [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(m =>
            DelayedFeedbacks.TryParse(m, out var method) && method != DelayedFeedback.Wait
                ? method
                : throw new ArgumentException($"--feedback: '{m}' is not a correction; use fnw, defer or both (fnw,defer)"))];
    }

    /// <summary>This process's command line, as the reports quote it.</summary>
    public static string CommandLine() => "freshet " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));

    /// <summary>Runs the real-time experiment and writes its report (shared by <c>experiment --suite realtime</c> and <c>demo</c>).</summary>
    public static async Task<int> RunRealtimeAsync(CliContext cli, string schemaPath, string data, long? samples, RealtimeExperiment.Options options, string? output, string name, bool json, CancellationToken ct, FeatureSchema? schema = null)
    {
        ProgressBar? bar = null;
        var (result, s, report) = await RealtimeSuite.RunAsync(schemaPath, data, samples, options, output, name, CommandLine(), m => cli.Error.WriteLine(m),
            (done, total, status) => (bar ??= new ProgressBar(cli.Error, cli.Interactive, total)).Report(done, status), ct, schema);
        bar?.Done();
        await cli.Out.WriteLineAsync(RealtimeReport.Table(result));
        await cli.Out.WriteLineAsync($"report: {report}");
        if (json) JsonResult.Write(cli.Out, RealtimeReport.Json(result, s, data, report, name == "demo" ? "demo" : "experiment"));
        return 0;
    }
}
