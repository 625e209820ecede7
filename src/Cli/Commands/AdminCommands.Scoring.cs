using Freshet.Model.Feedback;
using Freshet.Feedback;
using Freshet.Experiments;
using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Deployments;
using Freshet.Model.Training;
using Freshet.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;


namespace Freshet.Cli.Commands;

/// <summary><c>score</c> and <c>report</c>: rows scored with the weights serving holds, and what happened to them.</summary>
public static partial class AdminCommands
{
    private static Command Score(CliContext cli)
    {
        var c = new Common();
        var rows = new Option<string?>("--rows") { Description = "File of rows to score, one JSON object per line (field: value); '-' reads standard input" };
        var row = new Option<string[]>("--row") { Description = "One row as field=value pairs separated by commas (repeatable)", AllowMultipleArgumentsPerToken = false };
        var cmd = new Command("score", "Score rows with the weights serving holds now; each prediction says which weights made it") { rows, row };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var parsed = new List<ScoreRow>();
            foreach (var text in p.GetValue(row) ?? []) parsed.Add(ParsePairs(text, parsed.Count));
            if (p.GetValue(rows) is { } file) parsed.AddRange(await ReadRowsAsync(file, ct));
            if (parsed.Count == 0) throw new ArgumentException("score: no rows; give --row field=value,... or --rows FILE (JSON lines)");
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                IReadOnlyList<Prediction> predictions;
                try
                {
                    predictions = await client.ScoreAsync(p.GetValue(c.Model)!, parsed);
                }
                catch (ScoringRequestException e)
                {
                    throw new ArgumentException(e.Message);
                }
                for (var i = 0; i < predictions.Count; i++)
                {
                    var x = predictions[i];
                    await cli.Out.WriteLineAsync($"row {i}: ctr {x.Ctr:F6} cvr {x.Cvr:F6} ctcvr {x.Ctcvr:F6}  (weights {x.Weights}, {x.WeightsAge.TotalSeconds:F1} s old; id {x.Id})");
                }
                if (p.GetValue(c.Json))
                {
                    JsonResult.Write(cli.Out, new JsonObject
                    {
                        ["command"] = "score",
                        ["model"] = p.GetValue(c.Model),
                        ["predictions"] = new JsonArray([.. predictions.Select(x => (JsonNode)new JsonObject
                        {
                            ["ctr"] = x.Ctr, ["cvr"] = x.Cvr, ["ctcvr"] = x.Ctcvr, ["modelVersion"] = x.Weights.Checkpoint, ["deltaSequence"] = x.Weights.Delta, ["weights"] = x.Weights.ToString(),
                            ["weightsAgeMs"] = JsonResult.Metric(x.WeightsAge.TotalMilliseconds, 1), ["predictionId"] = x.Id.ToString(),
                        })]),
                    });
                }
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Report(CliContext cli)
    {
        var c = new Common(modelRequired: false);
        var ids = new Option<string[]>("--prediction") { Description = "A prediction id as score printed it (repeatable)", Required = true, AllowMultipleArgumentsPerToken = false };
        var what = new Option<string>("--event") { Description = "What happened: click or conversion", Required = true };
        var at = new Option<string?>("--time") { Description = "When it happened, UTC (ISO 8601, e.g. 2026-12-05T10:00:00Z; default now)" };
        var cmd = new Command("report", "Report what happened to served predictions (a click, a conversion): the model's feedback loop turns them into training samples") { ids, what, at };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            if (!FeedbackEvents.TryParse(p.GetValue(what), out var kind)) throw new ArgumentException($"--event: '{p.GetValue(what)}' is not an event; use click or conversion");
            var time = p.GetValue(at) is { } text
                ? DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : throw new ArgumentException($"--time: '{text}' is not a time; write ISO 8601 UTC, e.g. 2026-12-05T10:00:00Z")
                : DateTime.UtcNow;
            var labels = p.GetValue(ids)!.Select((id, i) => PredictionId.TryParse(id, out var parsed)
                ? new FeedbackLabel { Prediction = parsed, Event = kind, Time = time }
                : throw new ArgumentException($"--prediction {i + 1}: '{id}' is not a prediction id; pass one as 'freshet score' printed it ({{model}}/{{joiner}}/{{32 hex digits}})")).ToList();
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                await client.ReportAsync(labels);
                await cli.Out.WriteLineAsync($"{labels.Count} {kind.Name()} label(s) reported at {time:u}");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, new JsonObject { ["command"] = "report", ["event"] = kind.Name(), ["labels"] = labels.Count, ["time"] = time.ToString("O", CultureInfo.InvariantCulture) });
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }


    private static ScoreRow ParsePairs(string text, int index)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"--row {index}: '{pair}' is not field=value");
            values[pair[..eq]] = pair[(eq + 1)..];
        }
        return new ScoreRow { Values = values };
    }

    private static async Task<List<ScoreRow>> ReadRowsAsync(string file, CancellationToken ct)
    {
        var result = new List<ScoreRow>();
        using var reader = file == "-" ? new StreamReader(Console.OpenStandardInput()) : new StreamReader(File.Exists(file) ? file : throw new ArgumentException($"--rows: file '{file}' does not exist"));
        var line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            result.Add(ScoreRowJson.Parse(text, $"--rows {file}, line {line}"));
        }
        return result;
    }
}
