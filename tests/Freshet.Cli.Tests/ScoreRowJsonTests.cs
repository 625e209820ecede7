using Freshet.Cli.Commands;
using Freshet.Model.Schema;
using Freshet.Model.Serving;

namespace Freshet.Cli.Tests;

/// <summary><c>freshet score --rows</c>: a JSON array for an ids field is a list of ids.</summary>
public class ScoreRowJsonTests
{
    private const string Schema = """
    {
      "name": "lists",
      "source": { "format": "delimited", "delimiter": ",", "header": true },
      "time": { "column": "ts", "format": "unix-seconds" },
      "labels": { "click": { "column": "clicked", "equals": "1" } },
      "fields": [
        { "name": "user", "column": "user", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "history", "column": "history", "kind": "ids", "tier": "frozen", "dim": 4, "separator": "|" }
      ],
      "model": { "hidden": [4], "batchSize": 4 }
    }
    """;

    [Fact]
    public void A_json_array_for_an_ids_field_becomes_one_id_per_item_whatever_the_separator()
    {
        var featurizer = new RequestFeaturizer(SchemaLoader.Parse(Schema, "lists.json"));
        var now = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        ulong[] Bag(Freshet.Serving.ScoreRow row) => featurizer.FeaturizeRow(row.Values, 0, Freshet.Model.Data.TaskKind.Ctr, now, 0, row.Lists).Bags[0];

        var listed = ScoreRowJson.Parse("""{"user": "u1", "history": ["a", "b", 7]}""", "rows.jsonl, line 1");
        var separated = ScoreRowJson.Parse("""{"user": "u1", "history": "a|b|7"}""", "rows.jsonl, line 2");
        Assert.Equal(3, Bag(listed).Length);
        Assert.Equal(Bag(separated), Bag(listed));
        // An item that holds the separator is still one id.
        Assert.Single(Bag(ScoreRowJson.Parse("""{"history": ["a|b"]}""", "rows.jsonl, line 3")));

        var nested = Assert.Throws<ArgumentException>(() => ScoreRowJson.Parse("""{"history": [["a"]]}""", "rows.jsonl, line 4"));
        Assert.Equal("rows.jsonl, line 4: field 'history', item 0 is not text or a number; a list holds ids", nested.Message);
        var notIds = Assert.Throws<ArgumentException>(() => featurizer.FeaturizeRow(new Dictionary<string, string>(), 0, Freshet.Model.Data.TaskKind.Ctr, now, 0,
            ScoreRowJson.Parse("""{"user": ["u1"]}""", "x").Lists));
        Assert.Contains("field 'user' is given as a list, but it is not an ids field", notIds.Message, StringComparison.Ordinal);
    }
}
