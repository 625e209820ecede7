using System.CommandLine;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Experiments;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet results</c>: fresh runs of every experiment on the shared logs and the synthetic stream, gathered into docs/RESULTS.md.</summary>
public static class ResultsCommand
{
    public static Command Build(CliContext cli)
    {
        var data = new Option<string>("--data") { Description = "Folder holding mind-small-5k and talkingdata-100k", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FRESHET_DATA") ?? "../shared/data" };
        var schemas = new Option<string>("--schemas") { Description = "Folder of the feature schemas", DefaultValueFactory = _ => "schemas" };
        var output = new Option<string>("--out") { Description = "Where RESULTS.md goes (charts and reports in results/ beside it)", DefaultValueFactory = _ => "docs" };
        var json = new Option<bool>("--json") { Description = "Print a summary as one JSON object on the last line" };
        var cmd = new Command("results", "Run every experiment afresh (synthetic stream, MIND, TalkingData) and regenerate RESULTS.md") { data, schemas, output, json };
        cmd.SetAction(async (p, ct) =>
        {
            var bar = new ProgressBar(cli.Error, cli.Interactive, null);
            var summary = await ResultsGenerator.RunAsync(p.GetValue(data)!, p.GetValue(schemas)!, p.GetValue(output)!, TrainJsonAsync,
                m => cli.Error.WriteLine(m), (done, _, status) => bar.Report(done, status), ct);
            bar.Done();
            await cli.Out.WriteLineAsync($"wrote {summary["results"]}");
            if (p.GetValue(json)) JsonResult.Write(cli.Out, summary);
            return 0;
        });
        return cmd;
    }

    /// <summary><c>freshet train --schema S --data D --json</c> in this process, its JSON result read back from its last line.</summary>
    private static async Task<JsonObject> TrainJsonAsync(string schema, string data, CancellationToken ct)
    {
        var captured = new StringWriter();
        await TrainCommand.RunAsync(new TrainArgs { Schema = schema, Data = data, Json = true }, new CliContext(captured, TextWriter.Null, false), ct);
        return JsonNode.Parse(captured.ToString().TrimEnd().Split('\n')[^1])!.AsObject();
    }
}
