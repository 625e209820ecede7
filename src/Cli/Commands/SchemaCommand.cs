using Freshet.Experiments;
using System.CommandLine;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Model.Schema.Drafting;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet schema draft</c>: a first schema for a user's own log, with the reason for every column.</summary>
public static class SchemaCommand
{
    public static Command Build(CliContext cli)
    {
        var data = new Option<string>("--data") { Description = "The delimited log file to draft a schema for", Required = true };
        var labels = new Option<string[]>("--label") { Description = "A label: click=COLUMN==VALUE, click=COLUMN>=NUMBER, conversion=COLUMN==1 ... (once per label; guessed from column names when left out)" };
        var time = new Option<string?>("--time") { Description = "The event-time column (detected when left out)" };
        var timeFormat = new Option<string?>("--time-format") { Description = "Its format: unix-seconds, unix-millis, iso8601 or a .NET date format (detected when left out)" };
        var rows = new Option<int>("--rows") { Description = "Rows read from the top of the log", DefaultValueFactory = _ => DraftOptions.DefaultRows };
        var columns = new Option<string?>("--columns") { Description = "Comma-separated column names for a log without a header (default: #0, #1, ...)" };
        var delimiter = new Option<string?>("--delimiter") { Description = "The delimiter (\\t or tab for a tab); detected when left out" };
        var header = new Option<bool?>("--header") { Description = "Whether the first line is a header (true or false); detected when left out" };
        var name = new Option<string?>("--name") { Description = "The schema's (model's) name; default the file name" };
        var output = new Option<string?>("--out") { Description = "Write the schema to this file (default: print it)" };
        var force = new Option<bool>("--force") { Description = "Overwrite --out when it exists" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var draft = new Command("draft", "Draft a schema for a delimited log from its first rows: delimiter, header, types, event time, labels, and a field per usable column, each decision with its reason")
        {
            data, labels, time, timeFormat, rows, columns, delimiter, header, name, output, force, json,
        };
        draft.SetAction(async (p, ct) =>
        {
            var options = new DraftOptions
            {
                Data = p.GetValue(data)!,
                Rows = p.GetValue(rows),
                Labels = [.. (p.GetValue(labels) ?? []).Select(LabelRequest.Parse)],
                Time = p.GetValue(time),
                TimeFormat = p.GetValue(timeFormat),
                Delimiter = p.GetValue(delimiter) switch { "\\t" or "tab" => "\t", var d => d },
                Header = p.GetValue(header),
                Columns = p.GetValue(columns)?.Split(',', StringSplitOptions.TrimEntries),
                Name = p.GetValue(name),
            };
            var outFile = p.GetValue(output);
            if (outFile is not null && File.Exists(outFile) && !p.GetValue(force))
            {
                throw new ArgumentException($"--out: '{outFile}' exists; pass --force to overwrite it, or another path");
            }
            return await DraftAsync(options, outFile, p.GetValue(json), cli, ct);
        });
        var schema = new Command("schema", "Feature schemas");
        schema.Subcommands.Add(draft);
        return schema;
    }

    /// <summary>
    /// The reasoning goes to stdout as <c>//</c> comment lines, which the schema loader skips: without <c>--out</c>
    /// (and <c>--json</c>) the whole output is a schema that loads, reasons included.
    /// </summary>
    private static async Task<int> DraftAsync(DraftOptions options, string? outFile, bool json, CliContext cli, CancellationToken ct)
    {
        var draft = SchemaDrafter.Draft(options);
        foreach (var line in draft.Explanation) await cli.Out.WriteLineAsync("// " + line);
        string? written = null;
        if (outFile is not null)
        {
            written = Path.GetFullPath(outFile);
            await File.WriteAllTextAsync(written, draft.Json, ct);
            await cli.Out.WriteLineAsync($"// wrote {written}; next: freshet train --schema {outFile} --data {options.Data}");
        }
        else
        {
            await cli.Out.WriteAsync(draft.Json);
        }
        if (json)
        {
            JsonResult.Write(cli.Out, Summary(draft, written));
        }
        return 0;
    }

    private static JsonObject Summary(SchemaDraft d, string? written)
    {
        var labels = new JsonObject();
        foreach (var l in d.Labels)
        {
            labels[l.Task] = new JsonObject
            {
                ["column"] = l.Column,
                ["equals"] = l.Rule.EqualsValue,
                ["atLeast"] = l.Rule.AtLeast,
                ["delayColumn"] = l.Rule.DelayColumn,
                ["positives"] = l.Positives,
                ["rows"] = l.Rows,
                ["why"] = l.Why,
            };
        }
        var explode = d.Schema.Source.Explode;
        return new JsonObject
        {
            ["command"] = "schema draft",
            ["schema"] = written,
            ["data"] = d.File,
            ["rows"] = d.Rows,
            ["moreRows"] = d.MoreRows,
            ["delimiter"] = d.Delimiter,
            ["header"] = d.Header,
            ["columns"] = new JsonArray([.. d.Columns.Select(c => (JsonNode?)c)]),
            ["badRows"] = d.BadRows,
            ["time"] = new JsonObject
            {
                ["column"] = d.Time.Column,
                ["format"] = d.Time.Format,
                ["parsed"] = d.Time.Parsed,
                ["first"] = d.Time.First?.ToString("O"),
                ["last"] = d.Time.Last?.ToString("O"),
                ["why"] = d.Time.Why,
            },
            ["labels"] = labels,
            ["explode"] = explode is null ? null : new JsonObject
            {
                ["column"] = explode.Column,
                ["itemColumn"] = explode.ItemColumn,
                ["labelColumn"] = explode.LabelColumn,
                ["countColumn"] = explode.CountColumn,
            },
            ["group"] = d.Schema.Group,
            ["fields"] = new JsonArray([.. d.Fields.Select(f => (JsonNode?)new JsonObject
            {
                ["name"] = f.Name,
                ["column"] = f.Column,
                ["kind"] = f.Kind.ToString().ToLowerInvariant(),
                ["tier"] = f.Tier?.ToString().ToLowerInvariant(),
                ["dim"] = f.Dim,
                ["table"] = f.Table,
                ["transform"] = f.Transform?.ToString().ToLowerInvariant(),
                ["distinct"] = f.Distinct,
                ["why"] = f.Why,
            })]),
            ["refused"] = new JsonArray([.. d.Refused.Select(r => (JsonNode?)new JsonObject { ["column"] = r.Column, ["why"] = r.Why })]),
            ["draft"] = JsonNode.Parse(d.Json),
        };
    }
}
