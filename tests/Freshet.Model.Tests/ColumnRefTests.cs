using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

/// <summary>Column references, and columns whose header names contain ':'.</summary>
public class ColumnRefTests
{
    [Theory]
    [InlineData("user", "user", null, null)]
    [InlineData("user:token", "user", "token", null)]
    [InlineData("price:float", "price", "float", null)]
    [InlineData("#3", "#3", null, 3)]
    [InlineData("#3:int", "#3", "int", 3)]
    [InlineData("ts:utc", "ts:utc", null, null)]
    [InlineData("ts:utc:long", "ts:utc", "long", null)]
    [InlineData("a:b:c", "a:b:c", null, null)]
    [InlineData("a:b:c:token", "a:b:c", "token", null)]
    [InlineData("count:int:token", "count:int", "token", null)]
    [InlineData("count:int:", "count:int", null, null)]
    [InlineData("a::", "a:", null, null)]
    [InlineData(":int", ":int", null, null)]
    public void A_reference_splits_off_a_type_only_when_one_follows_the_last_colon(string text, string name, string? type, int? index)
    {
        var c = ColumnRef.Parse(text);
        Assert.Equal(new ColumnRef(name, index, type), c);
        Assert.Equal(c, ColumnRef.Parse(c.ToString()));
    }

    [Theory]
    [InlineData("ts:utc", null, "ts:utc")]
    [InlineData("a:b:c", "float", "a:b:c:float")]
    [InlineData("count:int", null, "count:int:")]
    [InlineData("count:int", "token", "count:int:token")]
    [InlineData("a:", null, "a::")]
    [InlineData("plain", null, "plain")]
    public void Format_writes_what_parse_reads_back(string name, string? type, string expected)
    {
        Assert.Equal(expected, ColumnRef.Format(name, type));
        var back = ColumnRef.Parse(expected);
        Assert.Equal(name, back.Name);
        Assert.Equal(type, back.Type);
    }

    [Fact]
    public void Columns_with_colons_are_reachable_as_time_label_id_and_numeric_columns()
    {
        using var dir = new TempFolder();
        var file = dir.File("log.csv", "ts:utc,a:b:c,count:int,y:n\n20,u2,7,1\n10,u1,3,0\n");
        var schema = SchemaLoader.Parse("""
        {
          "name": "colons",
          "source": { "format": "delimited", "delimiter": ",", "header": true },
          "time": { "column": "ts:utc", "format": "unix-seconds" },
          "labels": { "click": { "column": "y:n", "equals": "1" } },
          "fields": [
            { "name": "abc", "column": "a:b:c", "kind": "id", "tier": "frozen", "dim": 4 },
            { "name": "abc_typed", "column": "a:b:c:token", "kind": "id", "tier": "frozen", "dim": 4 },
            { "name": "count", "column": "count:int:float", "kind": "numeric" }
          ]
        }
        """);
        var samples = SampleReader.Open(schema, file).Read().ToList();
        Assert.Equal([10L, 20], samples.Select(s => (s.Time - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond));
        Assert.Equal([0f, 1], samples.Select(s => s.Label));
        Assert.Equal(IdHasher.Hash("u1"), samples[0].Ids[0]);
        Assert.Equal(IdHasher.Hash("u1"), samples[0].Ids[1]);
        Assert.Equal(3f, samples[0].Numerics[0]);
    }

    [Fact]
    public void A_missed_column_says_how_the_reference_was_read()
    {
        using var dir = new TempFolder();
        var file = dir.File("log.csv", "ts,user,count:int,clicked\n1,u,2,0\n");
        static string Schema(string column, string kind) => $$"""
        {
          "name": "x",
          "source": { "format": "delimited", "delimiter": ",", "header": true },
          "time": { "column": "ts", "format": "unix-seconds" },
          "labels": { "click": { "column": "clicked", "equals": "1" } },
          "fields": [ { "name": "f", "column": "{{column}}", "kind": "{{kind}}", "tier": "frozen" } ]
        }
        """;
        // A typo in the type: the whole text is a name, and the message says so.
        var typo = Assert.Throws<SchemaException>(() => SampleReader.Open(SchemaLoader.Parse(Schema("user:tokn", "id")), file));
        Assert.Contains("column 'user:tokn' is not in", typo.Message);
        Assert.Contains("'tokn' is not a column type", typo.Message);
        // A name that ends in ':int' was read as the column 'count' typed int: the message shows how to name it.
        var typed = Assert.Throws<SchemaException>(() => SampleReader.Open(SchemaLoader.Parse(Schema("count:int", "id")), file));
        Assert.Contains("column 'count' is not in", typed.Message);
        Assert.Contains("'count:int:token', 'count:int:'", typed.Message);
        // Written that way, it loads.
        Assert.Single(SampleReader.Open(SchemaLoader.Parse(Schema("count:int:", "id")), file).Read());
    }
}
