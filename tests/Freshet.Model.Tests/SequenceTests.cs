using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Sequences;
using Freshet.Model.Serving;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

/// <summary>Sequence fields: a key's recent events, filled per event in replay, strictly before each sample.</summary>
public class SequenceTests
{
    private const string Header = "ts,user,item,category,price,clicked";

    private static string Schema(string sequence, string labels = """{ "click": { "column": "clicked", "equals": "1" } }""") => $$"""
    {
      "name": "seq",
      "source": { "format": "delimited", "delimiter": ",", "header": true },
      "time": { "column": "ts", "format": "unix-seconds" },
      "labels": {{labels}},
      "fields": [
        { "name": "user", "column": "user:token", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "item", "column": "item:token", "kind": "id", "tier": "frozen", "dim": 4 },
        { "name": "category", "column": "category", "kind": "id", "tier": "changing", "dim": 3 },
        {{sequence}},
        { "name": "price", "column": "price:float", "kind": "numeric", "transform": "log1p" }
      ],
      "model": { "hidden": [8], "batchSize": 4 }
    }
    """;

    private static ulong[] H(params string[] ids) => [.. ids.Select(id => IdHasher.Hash(id))];

    [Fact]
    public void Replay_fills_each_sample_with_its_keys_clicks_strictly_before_it_oldest_first_and_capped()
    {
        using var dir = new TempFolder();
        var file = dir.File("log.csv", string.Join('\n', Header,
            "10,u1,i1,c1,5,1",
            "10,u1,i2,c1,5,1", // same time as the click above: neither sees the other
            "20,u1,i3,c2,5,0", // an impression without a click is not recorded
            "30,u2,i4,c2,5,1", // another user's click is not u1's
            "40,u1,i5,c1,5,1",
            "50,u1,i6,c1,5,0"));
        var schema = Schemas.Parse(Schema("""{ "name": "clicked", "kind": "sequence", "of": "user", "from": "item", "maxLength": 2 }"""));
        var layout = FeatureLayout.From(schema);
        var bag = layout.BagFields.Single();
        Assert.Equal((FieldKind.Sequence, "item", 4), (bag.Field.Kind, layout.Tables[bag.TableIndex].Name, bag.Width));

        var samples = SampleReader.Open(schema, file).Read().ToList();
        Assert.Equal([[], [], H("i1", "i2"), [], H("i1", "i2"), H("i2", "i5")], samples.Select(s => s.Bags[0]));
    }

    [Fact]
    public async Task An_attention_sequence_feeds_each_kept_values_age_to_the_towers_most_recent_first()
    {
        var schema = Schemas.Parse(Schema("""{ "name": "clicked", "kind": "sequence", "of": "user", "from": "item", "maxLength": 3, "pooling": "attention" }"""));
        var a = Assert.Single(FeatureLayout.From(schema).AttentionFields);
        Assert.True(a.Ages);
        Assert.Equal(3 * (4 + 2), a.Columns); // per slot: the row, the mask, the age
        using var store = new Training.InProcessParameterStore(schema);
        var step = new Training.TrainingStep(store, Training.Strategy.All);
        static Sample S(ulong[] bag, float[]? ages) => new()
        {
            Task = TaskKind.Ctr, Time = 1, Label = 0, Ids = [1, 2, 3], Bags = [bag], Ages = ages is null ? null : [ages], Numerics = [0.5f],
        };
        // Four values (three kept), ages known; one value, ages not known (read 0); ages that do not align with the bag (read 0).
        List<Sample> batch = [S([11, 12, 13, 14], [400, 300, 120, 60]), S([15], null), S([16, 17], [5])];
        await step.RunAsync(batch, TaskKind.Ctr, train: false, new float[batch.Count]);
        var input = step.LastInput.ToArray();
        float[] AgesOf(int row) => input[(row * store.Layout.InputDim + a.AgeOffset)..(row * store.Layout.InputDim + a.AgeOffset + a.Length)];
        Assert.Equal([AttentionSlot.AgeInput(60), AttentionSlot.AgeInput(120), AttentionSlot.AgeInput(300)], AgesOf(0));
        Assert.Equal([0f, 0f, 0f], AgesOf(1));
        Assert.Equal([0f, 0f, 0f], AgesOf(2));
        Assert.True(AttentionSlot.AgeInput(60) < AttentionSlot.AgeInput(3600) && AttentionSlot.AgeInput(3600) < AttentionSlot.AgeInput(86_400));
    }

    [Fact]
    public void On_a_stream_each_samples_sequence_is_the_naive_last_n_before_it_and_never_changes_once_read()
    {
        // A clicked impression makes a CTR and a CVR sample at one time: once shared one bags array, and the CVR sample's
        // fill (after the click was recorded, and its trimming) rewrote the CTR sample's: a bag one value short exactly when
        // the label was 1. Checked here against the naive definition on 40k samples of the synthetic stream.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", "synthetic.json")))!;
        json["fields"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{ "name": "clicked", "kind": "sequence", "of": "user", "from": "category", "maxLength": 3 }"""));
        json["fields"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{ "name": "bought", "kind": "sequence", "of": "user", "from": "item", "event": "conversion", "maxLength": 2 }"""));
        var schema = SchemaLoader.Parse(json.ToJsonString(), "synthetic.json");
        var read = SampleReader.Open(schema, "synthetic").Read(40_000).Select(x => (Sample: x, Clicked: x.Bags[0].ToArray(), Bought: x.Bags[1].ToArray())).ToList();
        var clicks = new Dictionary<ulong, List<(ulong Value, long Time)>>();
        var conversions = new Dictionary<ulong, List<(ulong Value, long Time)>>();
        static (ulong Value, long Time)[] LastBefore(Dictionary<ulong, List<(ulong Value, long Time)>> events, ulong key, long time, int n) =>
            events.TryGetValue(key, out var list) ? [.. list.Where(e => e.Time < time).OrderBy(e => e.Time).TakeLast(n)] : [];
        static float[] AgesAt(IEnumerable<(ulong Value, long Time)> events, long time) => [.. events.Select(e => (float)((double)(time - e.Time) / TimeSpan.TicksPerSecond))];
        var full = 0;
        foreach (var (x, clicked, bought) in read)
        {
            Assert.Equal(clicked, x.Bags[0]); // not rewritten after it was read
            Assert.Equal(bought, x.Bags[1]);
            var user = x.Ids[0];
            var (lastClicks, lastConversions) = (LastBefore(clicks, user, x.Time, 3), LastBefore(conversions, user, x.Time, 2));
            Assert.Equal(lastClicks.Select(e => e.Value), clicked);
            Assert.Equal(lastConversions.Select(e => e.Value), bought);
            // Each value's age at the sample's time, aligned with the values.
            Assert.Equal(AgesAt(lastClicks, x.Time), x.Ages![0]);
            Assert.Equal(AgesAt(lastConversions, x.Time), x.Ages[1]);
            if (clicked.Length == 3) full++;
            if (x.Task == TaskKind.Ctr && x.Label > 0) (clicks.TryGetValue(user, out var c) ? c : clicks[user] = []).Add((x.Ids[2], x.Time));
            if (x.Task == TaskKind.Cvr && x.Label > 0) (conversions.TryGetValue(user, out var v) ? v : conversions[user] = []).Add((x.Ids[1], Math.Max(x.Time, x.ConversionTime)));
        }
        Assert.True(full > 1000, $"only {full} samples had a full sequence: the check did not reach the trimming");
        Assert.Contains(read, r => r.Bought.Length > 0);
    }

    [Fact]
    public void A_conversion_counts_from_its_own_time_and_impressions_count_every_sample_of_the_first_task()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck.Replace("""{ "name": "price", "column": "price", "kind": "numeric" }""",
            """{ "name": "price", "column": "price", "kind": "numeric" }, { "name": "bought", "kind": "sequence", "of": "user", "from": "item", "event": "conversion" }, { "name": "shown", "kind": "sequence", "of": "user", "from": "category", "event": "impression", "expireAfter": "1h" }"""));
        var layout = FeatureLayout.From(schema);
        var tracker = new SequenceTracker(schema, layout);
        var (bought, shown) = (layout.BagFields.Select(b => b.Field.Name).ToList().IndexOf("bought"), layout.BagFields.Select(b => b.Field.Name).ToList().IndexOf("shown"));
        long Minutes(int m) => TimeSpan.FromMinutes(m).Ticks;
        Sample S(TaskKind task, int minute, string item, string category, float label = 0, int? convertedAt = null) => new()
        {
            Task = task, Time = Minutes(minute), Label = label, Ids = H("u", item, category), Bags = [[], [], []], Numerics = [0f],
            ConversionTime = convertedAt is { } c ? Minutes(c) : 0,
        };
        var seen = new List<Sample>();
        void Step(Sample s)
        {
            tracker.Fill(s);
            tracker.Record(s);
            seen.Add(s);
        }
        Step(S(TaskKind.Ctr, 0, "i1", "c1", label: 1));
        Step(S(TaskKind.Cvr, 0, "i1", "c1", label: 1, convertedAt: 30)); // converts at minute 30
        Step(S(TaskKind.Ctr, 10, "i2", "c2"));
        Step(S(TaskKind.Ctr, 40, "i3", "c3"));
        Step(S(TaskKind.Ctr, 100, "i4", "c4")); // the impressions more than an hour old (minutes 0 and 10) have expired
        Assert.Equal([[], [], [], H("i1"), H("i1")], seen.Select(s => s.Bags[bought]));
        Assert.Equal([[], [], H("c1"), H("c1", "c2"), H("c3")], seen.Select(s => s.Bags[shown]));
        Assert.Equal(2, tracker.Keys); // the one user, in each of the two sequences
    }

    [Fact]
    public void Keys_past_the_cap_are_evicted_least_recently_seen_first_so_memory_stays_bounded()
    {
        var schema = Schemas.Parse(Schema("""{ "name": "clicked", "kind": "sequence", "of": "user", "from": "item", "maxRows": 100, "maxLength": 5 }"""));
        var tracker = new SequenceTracker(schema, FeatureLayout.From(schema));
        for (var i = 0; i < 10_000; i++)
        {
            var s = new Sample { Task = TaskKind.Ctr, Time = i, Label = 1, Ids = H("u" + (i % 1000), "i" + i, "c"), Bags = [[]], Numerics = [0f] };
            tracker.Fill(s);
            tracker.Record(s);
            Assert.True(s.Bags[0].Length <= 5);
        }
        Assert.Equal(100, tracker.Keys);
        Assert.Equal(10_000 - 100, tracker.Evicted);
    }

    [Theory]
    [InlineData("""{ "name": "s", "kind": "sequence", "from": "item" }""", "fields[3] 's'.of: name the id field")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "price" }""", "field 'price' is numeric")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "event": "purchase" }""", "'purchase' is not an event")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "event": "conversion" }""", "the schema has no conversion label")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "column": "item" }""", "a sequence has no column")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "dim": 8 }""", "remove table, dim and tier")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "maxLength": 0 }""", "maxLength: 0 is out of range")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "pooling": "attention", "target": "category" }""", "field 'category' embeds in table 'category', this field's values in 'item'")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "pooling": "attention", "target": "nothing" }""", "'nothing' is not a field")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "target": "item" }""", "add \"pooling\": \"attention\" or remove 'target'")]
    [InlineData("""{ "name": "s", "kind": "sequence", "of": "user", "from": "item", "pooling": "sum" }""", "pooling")]
    [InlineData("""{ "name": "s", "column": "history", "kind": "ids", "tier": "frozen", "pooling": "attention" }""", "no id field embeds in table 's'")]
    [InlineData("""{ "name": "s", "kind": "rate", "of": "user", "label": "click", "pooling": "attention" }""", "pooling and target apply to 'ids' and 'sequence' fields only")]
    public void A_sequence_field_that_cannot_work_is_refused_naming_the_fix(string field, string expected)
    {
        var e = Assert.Throws<SchemaException>(() => Schemas.Parse(Schema(field)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_raw_sample_of_a_model_with_a_sequence_is_refused_rather_than_trained_with_an_empty_one_and_serving_fills_it()
    {
        var schema = Schemas.Parse(Schema("""{ "name": "clicked", "kind": "sequence", "of": "user", "from": "item" }"""));
        var featurizer = new RequestFeaturizer(schema);
        Assert.DoesNotContain("clicked", featurizer.Fields);
        var e = Assert.Throws<ArgumentException>(() => featurizer.Featurize([new Dictionary<string, string> { ["user"] = "u1", ["item"] = "i1" }], DateTime.UtcNow, 10));
        Assert.Contains("sequence field 'clicked'", e.Message);
        // Serving's featurizer takes the row and leaves the sequence for the live state to fill; the row cannot give it.
        var serving = new RequestFeaturizer(schema, liveSequences: true);
        var row = Assert.Single(serving.Featurize([new Dictionary<string, string> { ["user"] = "u1", ["item"] = "i1" }], DateTime.UtcNow, 10));
        Assert.Empty(row.Bags[0]);
        e = Assert.Throws<ArgumentException>(() => serving.Featurize([new Dictionary<string, string> { ["user"] = "u1", ["clicked"] = "i9" }], DateTime.UtcNow, 10));
        Assert.Contains("field 'clicked' is not in model", e.Message);
    }
}
