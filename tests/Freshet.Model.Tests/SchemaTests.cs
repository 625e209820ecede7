using System.Text.Json.Nodes;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

public class SchemaTests
{
    private static string With(Action<JsonObject> change)
    {
        var o = JsonNode.Parse(Schemas.ClickCsv)!.AsObject();
        change(o);
        return o.ToJsonString();
    }

    private static SchemaException Fails(string json) => Assert.Throws<SchemaException>(() => SchemaLoader.Parse(json, "bad.json"));

    [Fact]
    public void The_committed_schemas_load()
    {
        foreach (var name in new[] { "mind.json", "talkingdata.json", "synthetic.json", "synthetic-wide.json", "synthetic-intent.json" })
        {
            var s = SchemaLoader.Load(TestData.Schema(name));
            Assert.NotEmpty(s.Fields);
        }
    }

    [Fact]
    public void Committed_schemas_put_ids_in_frozen_and_categories_in_changing()
    {
        var mind = SchemaLoader.Load(TestData.Schema("mind.json"));
        Assert.Equal(Tier.Frozen, mind.Fields.Single(f => f.Name == "user").Tier);
        Assert.Equal(Tier.Frozen, mind.Fields.Single(f => f.Name == "news").Tier);
        Assert.Equal(Tier.Changing, mind.Fields.Single(f => f.Name == "category").Tier);
        var td = SchemaLoader.Load(TestData.Schema("talkingdata.json"));
        Assert.Equal(Tier.Frozen, td.Fields.Single(f => f.Name == "ip").Tier);
        foreach (var changing in new[] { "app", "os", "device", "channel" })
        {
            Assert.Equal(Tier.Changing, td.Fields.Single(f => f.Name == changing).Tier);
        }
    }

    [Fact]
    public void Unknown_property_is_named_with_its_line()
    {
        var e = Fails("{\n  \"name\": \"x\",\n  \"fieldz\": []\n}");
        Assert.Contains("bad.json", e.Message);
        Assert.Contains("fieldz", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Wrong_enum_value_lists_the_accepted_ones()
    {
        var e = Fails(With(o => o["fields"]![0]!["kind"] = "idd"));
        Assert.Contains("'idd'", e.Message);
        Assert.Contains("id, ids, numeric, rate", e.Message);
        Assert.Contains("$.fields[0].kind", e.Message);
    }

    [Fact]
    public void Every_problem_is_reported_with_the_field_that_has_it()
    {
        var e = Fails(With(o =>
        {
            o["fields"]![0]!.AsObject().Remove("tier");
            o["fields"]![1]!["dim"] = 0;
            o["fields"]![2]!["name"] = "user";
            o["fields"]![3]!["tier"] = "frozen";
        }));
        Assert.Contains("problems", e.Message);
        Assert.Contains("fields[0] 'user'.tier: missing", e.Message);
        Assert.Contains("fields[1] 'item'.dim: 0 is out of range", e.Message);
        Assert.Contains("fields[2] 'user': the name is used by an earlier field", e.Message);
        Assert.Contains("fields[3] 'price'.tier: numeric fields feed the dense tier", e.Message);
        Assert.DoesNotContain("fields[1] 'item'.tier", e.Message);
    }

    [Fact]
    public void Time_feature_is_refused_with_the_reason()
    {
        var e = Fails(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "hod", "kind": "id", "tier": "changing", "derive": "hourOfDay" }"""))));
        Assert.Contains("fields[4] 'hod' is a time feature (hour-of-day derived from the event time)", e.Message);
        Assert.Contains("over-fits to the time slot being trained on", e.Message);
        Assert.Contains("allowTimeFeatures", e.Message);
    }

    [Fact]
    public void Columns_named_like_time_slots_and_marked_fields_are_time_features()
    {
        var byName = Fails(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "hour", "column": "hour", "kind": "id", "tier": "changing" }"""))));
        Assert.Contains("'hour' is a time feature", byName.Message);
        var marked = Fails(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "slot", "column": "slot", "kind": "id", "tier": "changing", "timeFeature": true }"""))));
        Assert.Contains("\"timeFeature\": true", marked.Message);
        var eventTime = Fails(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "when", "column": "ts", "kind": "numeric" }"""))));
        Assert.Contains("reads the event-time column 'ts'", eventTime.Message);
    }

    [Fact]
    public void Time_features_load_when_the_schema_allows_them_or_a_field_opts_out()
    {
        var allowed = SchemaLoader.Parse(With(o =>
        {
            o["allowTimeFeatures"] = true;
            o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "hod", "kind": "id", "tier": "changing", "derive": "hourOfDay" }"""));
        }));
        Assert.Contains(allowed.Fields, f => f.Name == "hod");
        var optOut = SchemaLoader.Parse(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "hour", "column": "hour", "kind": "id", "tier": "changing", "timeFeature": false }"""))));
        Assert.Contains(optOut.Fields, f => f.Name == "hour");
    }

    [Fact]
    public void Shared_tables_must_agree_on_dim_and_tier()
    {
        var e = Fails(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "seen", "column": "seen", "kind": "ids", "table": "item", "tier": "changing", "dim": 8 }"""))));
        Assert.Contains("shares table 'item' with field 'item' but has dim 8 instead of 4", e.Message);
        Assert.Contains("has tier Changing instead of Frozen", e.Message);
    }

    [Fact]
    public void Labels_baseline_and_rate_are_checked()
    {
        Assert.Contains("give exactly one of 'equals', 'atLeast' or 'nonEmpty'", Fails(With(o => o["labels"]!["click"]!["atLeast"] = 1)).Message);
        Assert.Contains("baseline.click: field 'price' is numeric", Fails(With(o => o["baseline"] = JsonNode.Parse("""{ "click": "price" }"""))).Message);
        var rate = Fails(With(o => o["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "r", "kind": "rate", "of": "price", "label": "conversion" }"""))));
        Assert.Contains("fields[4] 'r'.of: field 'price' is numeric", rate.Message);
        Assert.Contains("the schema has no 'conversion' label", rate.Message);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        var e = Assert.Throws<SchemaException>(() => SchemaLoader.Load("/nonexistent/schema.json"));
        Assert.Contains("/nonexistent/schema.json", e.Message);
    }

    [Fact]
    public void Durations_parse_and_reject()
    {
        Assert.Equal(TimeSpan.FromHours(1), Durations.Parse("1h", "x"));
        Assert.Equal(TimeSpan.FromMinutes(30), Durations.Parse("30m", "x"));
        Assert.Equal(TimeSpan.FromDays(7), Durations.Parse("7d", "x"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), Durations.Parse("500ms", "x"));
        var e = Assert.Throws<FormatException>(() => Durations.Parse("soon", "--window"));
        Assert.Contains("--window", e.Message);
    }
}
