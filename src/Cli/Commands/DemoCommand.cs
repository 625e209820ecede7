using System.CommandLine;
using Freshet.Experiments;
using Freshet.Tools.Output;
using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Cli.Commands;

/// <summary>
/// <c>freshet demo</c>, the main job: on embedded defaults (an in-process silo with the training
/// and serving roles, memory streams, checkpoints under the working directory) it replays the
/// synthetic stream, promotion window included, through the whole system once per strategy; then,
/// on the synthetic stream, the feedback loop end to end (requests scored through the SDK, labels
/// reported with their delays, the joiners making samples, a poisoned hour that the served-quality
/// guard rolls back). It ends with a report, its charts and a short table.
/// </summary>
public static class DemoCommand
{
    public static Command Build(CliContext cli)
    {
        var schema = new Option<string?>("--schema") { Description = "Feature schema JSON (default: the embedded synthetic stream's)" };
        var data = new Option<string>("--data") { Description = "Log file, folder, or 'synthetic'", DefaultValueFactory = _ => "synthetic" };
        var samples = new Option<long?>("--samples") { Description = "Samples to replay (default: all of a log; 300000 of the synthetic stream: 47 hours, the promotion window 24h to 36h)" };
        var strategies = new Option<string?>("--strategies") { Description = "Strategies (default base,part,part+fresh,all,promotion)" };
        var interval = new Option<string>("--interval") { Description = "Event time between publishes", DefaultValueFactory = _ => "1h" };
        var every = new Option<string>("--every") { Description = "Promotion mode: Model A's checkpoint period", DefaultValueFactory = _ => "6h" };
        var warmup = new Option<string?>("--warmup") { Description = "The base model's span from the log's start (default: 12h of the synthetic stream; a quarter of a log, at most 1d)" };
        var output = new Option<string>("--out") { Description = "Folder for the report, charts and checkpoints", DefaultValueFactory = _ => "freshet-demo" };
        var attribution = new Option<string?>("--attribution-window") { Description = "Also compare delayed-feedback handling (waiting for conversions, FNW, immediate labels) with this attribution window (default 12h on the synthetic stream; 'none' to skip)" };
        var loop = new Option<string?>("--loop") { Description = "Simulated time of the feedback-loop run with its poisoned hour (default 4.5h on the synthetic stream; 'none' to skip)" };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object on the last line" };
        var cmd = new Command("demo", "The main job: replay a stream through training, publishing and serving per strategy, and report what each was worth")
        {
            schema, data, samples, strategies, interval, every, warmup, attribution, loop, output, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var d = p.GetValue(data)!;
            FeatureSchema s;
            string schemaName;
            if (p.GetValue(schema) is { } path)
            {
                s = SchemaLoader.Load(path);
                schemaName = path;
            }
            else
            {
                if (d != SampleReader.SyntheticData) throw new ArgumentException("--schema: a log needs its schema (e.g. --schema schemas/mind.json); only the synthetic stream has an embedded one");
                await using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream("Freshet.Cli.synthetic.json")
                    ?? throw new InvalidOperationException("the embedded synthetic schema is missing from this build");
                using var reader = new StreamReader(stream);
                s = SchemaLoader.Parse(await reader.ReadToEndAsync(ct), "(embedded synthetic.json)");
                schemaName = "(embedded synthetic.json)";
            }
            var synthetic = d == SampleReader.SyntheticData;
            var window = p.GetValue(attribution) ?? (synthetic ? "12h" : "none");
            var options = RealtimeSuite.Options(p.GetValue(strategies), p.GetValue(interval)!, "1h", p.GetValue(warmup) ?? (synthetic ? "12h" : null), p.GetValue(every)!, null, null, null)
                with { AttributionWindow = window == "none" ? null : Durations.Parse(window, "--attribution-window") };
            RealtimeExperiment.Validate(options);
            await cli.Error.WriteLineAsync($"demo: {(synthetic ? "the synthetic stream (a promotion window 24h to 36h into it)" : d)}; strategies {string.Join(", ", options.Strategies)}; publish every {Durations.Format(options.PublishInterval)} of event time");
            var loopText = p.GetValue(loop) ?? (synthetic ? "4.5h" : "none");
            TimeSpan? loopFor = loopText == "none" ? null : Durations.Parse(loopText, "--loop");
            if (loopFor is { } lf && (!synthetic || lf < TimeSpan.FromHours(2)))
            {
                throw new ArgumentException(synthetic
                    ? $"--loop {loopText}: the loop's poisoned hour starts an hour in and lasts an hour; give it at least 2h (4.5h is the default), or 'none'"
                    : "--loop: the feedback loop replays the synthetic stream's traffic; pass --loop none with a log");
            }

            ProgressBar? bar = null;
            var (result, s2, report) = await RealtimeSuite.RunAsync(schemaName, d, p.GetValue(samples) ?? (synthetic ? 300_000 : null), options, p.GetValue(output), "demo",
                ExperimentCommand.CommandLine(), m => cli.Error.WriteLine(m), (done, total, status) => (bar ??= new ProgressBar(cli.Error, cli.Interactive, total)).Report(done, status), ct, s);
            bar?.Done();
            await cli.Out.WriteLineAsync(RealtimeReport.Table(result));
            LoopSimulation.Result? looped = null;
            if (loopFor is { } duration)
            {
                var loopOptions = LoopReport.DemoOptions(duration);
                var folder = Path.GetDirectoryName(Path.GetFullPath(report))!;
                var (r, chart) = await LoopReport.RunAsync(s2, loopOptions, folder, m => cli.Error.WriteLine(m), ct);
                looped = r;
                await File.AppendAllTextAsync(report, Environment.NewLine + LoopReport.Markdown(r, chart, loopOptions), ct);
                await cli.Out.WriteLineAsync(LoopReport.Summary(r));
            }
            await cli.Out.WriteLineAsync($"report: {report}");
            if (p.GetValue(json))
            {
                var o = RealtimeReport.Json(result, s2, d, report, "demo");
                o["guard"] = looped is null ? null : LoopReport.Json(looped);
                JsonResult.Write(cli.Out, o);
            }
            return 0;
        });
        return cmd;
    }
}
