using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

/// <summary>Logs shaped like Criteo, Avazu and MovieLens read through a schema alone.</summary>
public class OtherLogsTests
{
    [Fact]
    public void MovieLens_ratings_with_a_two_character_delimiter_and_a_rating_threshold()
    {
        using var dir = new TempFolder();
        var file = dir.File("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
        var schema = SchemaLoader.Parse("""
        {
          "name": "movielens",
          "source": { "format": "delimited", "delimiter": "::", "header": false, "columns": ["user_id", "item_id", "rating", "timestamp"] },
          "time": { "column": "timestamp:float", "format": "unix-seconds" },
          "labels": { "click": { "column": "rating:float", "atLeast": 4 } },
          "fields": [
            { "name": "user", "column": "user_id:token", "kind": "id", "tier": "frozen", "dim": 16 },
            { "name": "item", "column": "item_id:token", "kind": "id", "tier": "frozen", "dim": 16 }
          ]
        }
        """);
        var samples = SampleReader.Open(schema, file).Read().ToList();
        Assert.Equal([1f, 1, 0], samples.Select(s => s.Label)); // 978298413 (user 2) first
        Assert.Equal(IdHasher.Hash("2"), samples[0].Ids[0]);
    }

    [Fact]
    public void Criteo_style_log_without_header_or_times_reads_by_column_index_in_row_order()
    {
        using var dir = new TempFolder();
        var file = dir.File("day_0.tsv", "0\t1\t\t68fd1e64\t80e26c9b\n1\t\t5\t68fd1e64\tfb936136\n0\t7\t2\t287e684f\t\n");
        var schema = SchemaLoader.Parse("""
        {
          "name": "criteo",
          "source": { "format": "delimited", "delimiter": "\t", "header": false },
          "time": { "format": "row-order" },
          "labels": { "click": { "column": "#0", "equals": "1" } },
          "fields": [
            { "name": "i1", "column": "#1", "kind": "numeric", "transform": "log1p" },
            { "name": "i2", "column": "#2", "kind": "numeric", "transform": "log1p" },
            { "name": "c1", "column": "#3", "kind": "id", "tier": "changing", "dim": 8 },
            { "name": "c2", "column": "#4", "kind": "id", "tier": "frozen", "dim": 8 }
          ]
        }
        """);
        var reader = SampleReader.Open(schema, file);
        var samples = reader.Read().ToList();
        Assert.Equal(3, samples.Count);
        Assert.Equal([0f, 1, 0], samples.Select(s => s.Label));
        Assert.Equal([TimeSpan.TicksPerSecond, TimeSpan.TicksPerSecond], samples.Zip(samples.Skip(1)).Select(p => p.Second.Time - p.First.Time));
        Assert.Equal((float)Math.Log(2), samples[0].Numerics[0], 5);
        Assert.Equal(0f, samples[0].Numerics[1]); // an empty integer is 0
        Assert.Equal(IdHasher.Hash(""), samples[2].Ids[1]); // an empty category is the missing bucket
        Assert.Equal(["#0", "#1", "#2", "#3", "#4"], reader.Source.ColumnNames);
    }

    [Fact]
    public void Avazu_style_log_uses_its_hour_column_as_the_event_time_not_as_a_feature()
    {
        using var dir = new TempFolder();
        var file = dir.File("train.csv", "id,click,hour,C1,banner_pos,site_id,device_ip\n1,0,14102101,1005,0,1fbe01fe,ddd2926e\n2,1,14102100,1005,1,1fbe01fe,96809ac8\n");
        const string schemaJson = """
        {
          "name": "avazu",
          "source": { "format": "delimited", "delimiter": ",", "header": true },
          "time": { "column": "hour", "format": "yyMMddHH" },
          "labels": { "click": { "column": "click", "equals": "1" } },
          "fields": [
            { "name": "site", "column": "site_id", "kind": "id", "tier": "changing", "dim": 8 },
            { "name": "banner_pos", "column": "banner_pos", "kind": "id", "tier": "changing", "dim": 4 },
            { "name": "ip", "column": "device_ip", "kind": "id", "tier": "frozen", "dim": 8 }
            FIELD
          ]
        }
        """;
        var samples = SampleReader.Open(SchemaLoader.Parse(schemaJson.Replace("FIELD", "", StringComparison.Ordinal)), file).Read().ToList();
        Assert.Equal(new DateTime(2014, 10, 21, 0, 0, 0, DateTimeKind.Utc).Ticks, samples[0].Time);
        Assert.Equal(1f, samples[0].Label);
        // Using the hour as a feature is refused for a streaming job.
        var e = Assert.Throws<SchemaException>(() => SchemaLoader.Parse(schemaJson.Replace("FIELD", """, { "name": "hour", "column": "hour", "kind": "id", "tier": "changing" }""", StringComparison.Ordinal)));
        Assert.Contains("'hour' is a time feature", e.Message);
    }
}
