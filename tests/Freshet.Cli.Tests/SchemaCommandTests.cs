using System.Globalization;
using System.Text;
using Freshet.Model.Schema;

namespace Freshet.Cli.Tests;

public sealed class SchemaCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "freshet-cli-" + Guid.NewGuid().ToString("N"));

    public SchemaCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small click log: time, user, item, hour, clicked.</summary>
    private string Log()
    {
        var rng = new Random(2);
        var start = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var sb = new StringBuilder("ts,user,item,hour,clicked\n");
        for (var i = 0; i < 500; i++)
        {
            var t = start.AddSeconds(rng.Next(86_400));
            sb.Append(CultureInfo.InvariantCulture, $"{t:yyyy-MM-dd HH:mm:ss},u{rng.Next(200)},i{rng.Next(30)},{t.Hour},{rng.Next(2)}\n");
        }
        var path = Path.Combine(_dir, "log.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    [Fact]
    public async Task Without_out_the_output_is_the_reasoning_as_comments_then_the_schema_and_loads_as_it_is()
    {
        var r = await CliRunner.RunAsync("schema", "draft", "--data", Log());
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("// time: 'ts', format \"yyyy-MM-dd HH:mm:ss\"", r.Out);
        Assert.Contains("//   hour: named like a time slot ('hour')", r.Out);
        var schema = SchemaLoader.Parse(r.Out, "stdout");
        Assert.Equal(["user", "item"], schema.Fields.Select(f => f.Name));
        Assert.Equal("clicked", schema.Labels.Click!.Column);
    }

    [Fact]
    public async Task With_out_and_json_the_schema_is_written_and_the_summary_is_the_last_line()
    {
        var log = Log();
        var output = Path.Combine(_dir, "draft.json");
        var r = await CliRunner.RunAsync("schema", "draft", "--data", log, "--label", "click=clicked==1", "--time", "ts", "--out", output, "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(Path.GetFullPath(output), (string)j["schema"]!);
        Assert.Equal(500, (int)j["rows"]!);
        Assert.Equal(",", (string)j["delimiter"]!);
        Assert.True((bool)j["header"]!);
        Assert.Equal("ts", (string)j["time"]!["column"]!);
        Assert.Equal("1", (string)j["labels"]!["click"]!["equals"]!);
        Assert.Equal(["user", "item"], j["fields"]!.AsArray().Select(f => (string)f!["name"]!));
        Assert.Equal(["ts", "hour", "clicked"], j["refused"]!.AsArray().Select(f => (string)f!["column"]!));
        Assert.All(j["refused"]!.AsArray(), f => Assert.False(string.IsNullOrEmpty((string)f!["why"]!)));
        Assert.Null(j["draft"]!["model"]);
        Assert.Equal(2, SchemaLoader.Load(output).Fields.Count);
        Assert.DoesNotContain("\"fields\"", r.Out[..r.Out.TrimEnd().LastIndexOf('\n')]); // the schema went to the file, the summary is the last line

        var again = await CliRunner.RunAsync("schema", "draft", "--data", log, "--out", output);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--out: '" + output + "' exists; pass --force", again.Error);
    }

    [Fact]
    public async Task Bad_input_exits_with_a_message_naming_what_to_fix_and_no_stack_trace()
    {
        var log = Log();
        var empty = Path.Combine(_dir, "empty.csv");
        File.WriteAllText(empty, "");
        var cases = new (string[] Args, string Message)[]
        {
            (["--data", Path.Combine(_dir, "none.csv")], $"--data '{Path.Combine(_dir, "none.csv")}' does not exist"),
            (["--data", empty], $"--data '{empty}' is empty"),
            (["--data", log, "--label", "click=clicked"], "--label 'click=clicked': give TASK=COLUMN==VALUE"),
            (["--data", log, "--label", "click=klick==1"], $"--label 'click=klick==1': column 'klick' is not in {log} (columns: ts, user, item, hour, clicked)"),
            (["--data", log, "--label", "click=user>=1"], "column 'user' holds text"),
            (["--data", log, "--time", "user"], "--time: column 'user' holds no times"),
            (["--data", log, "--rows", "2"], "--rows: read at least 10 rows"),
        };
        foreach (var (args, message) in cases)
        {
            var r = await CliRunner.RunAsync(["schema", "draft", .. args]);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}, {r.Error}");
            Assert.Contains(message, r.Error);
            Assert.DoesNotContain("   at ", r.Error);
        }
    }

    /// <summary>Draft, load, train on the whole log (seconds here): the draft's model beats its best counting baseline.</summary>
    [RealDataFact]
    public async Task TalkingData_draft_loads_trains_and_beats_its_best_counter()
    {
        var output = Path.Combine(_dir, "talkingdata.json");
        var d = await CliRunner.RunAsync("schema", "draft", "--data", Path.Combine(TestData.TalkingData, "train_sample.csv"), "--label", "conversion=is_attributed==1", "--out", output, "--json");
        Assert.Equal(0, d.ExitCode);
        var schema = SchemaLoader.Load(output);
        Assert.Equal("click_time", schema.Time!.Column);
        Assert.Equal("attributed_time", schema.Labels.Conversion!.DelayColumn);
        Assert.Null(schema.Labels.Click);
        Assert.Equal([("ip", Tier.Frozen), ("app", Tier.Changing), ("device", Tier.Changing), ("os", Tier.Changing), ("channel", Tier.Changing)],
            schema.Fields.Select(f => (f.Name, f.Tier!.Value)));
        Assert.Equal("..ip", schema.Fields[0].ColumnRef!.Name);

        var r = await CliRunner.RunAsync("train", "--schema", output, "--data", TestData.TalkingData, "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(100_000, (long)j["cvrSamples"]!);
        Assert.True((double)j["cvrAuc"]! >= (double)j["cvrBestBaselineAuc"]!, $"cvrAuc {j["cvrAuc"]} < best counter {j["cvrBestBaselineAuc"]}");
    }

    /// <summary>
    /// MIND's impressions are lists of labelled items: the draft explodes them, groups by the impression id and
    /// shares the news table with the history bag, from the data alone (columns by position: the log has no header).
    /// </summary>
    [RealDataFact]
    public async Task Mind_draft_loads_trains_and_beats_its_best_counter()
    {
        var output = Path.Combine(_dir, "mind.json");
        var d = await CliRunner.RunAsync("schema", "draft", "--data", Path.Combine(TestData.Mind, "behaviors.tsv"), "--out", output, "--json");
        Assert.Equal(0, d.ExitCode);
        var schema = SchemaLoader.Load(output);
        Assert.Equal(("#4", "-"), (schema.Source.Explode!.Column, schema.Source.Explode.LabelSeparator));
        Assert.Equal("#0", schema.Group);
        Assert.Equal("#2", schema.Time!.Column);
        Assert.Equal("item", schema.Fields.Single(f => f.Kind == FieldKind.Ids).Table);
        Assert.Contains(schema.Fields, f => f.ColumnRef!.Name == "#1" && f.Tier == Tier.Frozen);

        var r = await CliRunner.RunAsync("train", "--schema", output, "--data", TestData.Mind, "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(189_359, (long)j["ctrSamples"]!);
        Assert.True((double)j["ctrAuc"]! >= (double)j["ctrBestBaselineAuc"]!, $"ctrAuc {j["ctrAuc"]} < best counter {j["ctrBestBaselineAuc"]}");
        Assert.NotNull(j["groupAuc"]);
    }
}
