using Freshet.Client;
using Freshet.Feedback;
using Freshet.Grains.Serving;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Sequences;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>
/// Sequence fields kept live: joiners record what the loop reports, serving fills a row's sequence before scoring it, and
/// a row's sequence is the one replay computes from the same events.
/// </summary>
public class LiveSequenceTests
{
    private static ScoreRow Row(string user, string item, string category) =>
        ScoreRow.Of(("user", user), ("item", item), ("category", category), ("device", "d1"), ("price", "12.5"));

    [Fact]
    public async Task Serving_scores_a_row_with_the_sequence_its_reported_clicks_made_the_same_one_replay_computes()
    {
        await using var h = await ClusterHarness.StartAsync(limits: l => l.MaxClockSkew = TimeSpan.FromDays(1));
        var client = new FreshetClient(h.Client);
        const string model = "seq";
        // schemas/synthetic-intent.json: `recent` is the user's last 10 clicked categories (12 h), pooled by attention.
        var spec = await h.ServeAsync(model, new FeedbackSpec { Method = DelayedFeedback.Fnw, Joiners = 1, ClickWindow = TimeSpan.FromMinutes(30) }, samples: 3_000,
            schemaFile: "synthetic-intent.json");
        var schema = SchemaLoader.Load(TestData.Schema("synthetic-intent.json"));
        var field = Assert.Single(SequenceField.Of(FeatureLayout.From(schema)));
        var user = IdHasher.Hash("u-live");
        async Task<ulong[]> SequenceAt(DateTime time) =>
            (await h.Grains.Sequence(model, field.Name, SequenceShards.Of(user)).ReadAsync(LiveSequences.Bounds(field), [user], [time.Ticks])).Values[0];

        // Three impressions of one user; the first two are clicked, the third is scored after both clicks were reported.
        var t0 = DateTime.UtcNow.AddMinutes(-10);
        var first = Assert.Single(await client.ScoreAsync(model, [Row("u-live", "i1", "c1")], t0));
        var second = Assert.Single(await client.ScoreAsync(model, [Row("u-live", "i2", "c2")], t0.AddMinutes(1)));
        Assert.Empty(await SequenceAt(t0.AddMinutes(2))); // impressions alone do not make a click sequence
        await client.ReportAsync([new FeedbackLabel { Prediction = first.Id, Event = FeedbackEvent.Click, Time = t0.AddMinutes(3) },
            new FeedbackLabel { Prediction = second.Id, Event = FeedbackEvent.Click, Time = t0.AddMinutes(3) }]);
        ulong[] expected = [IdHasher.Hash("c1"), IdHasher.Hash("c2")];
        await PublishingTests.WaitAsync(async () => (await SequenceAt(t0.AddMinutes(4))).SequenceEqual(expected), "the joiner records both clicks, at their impressions' times");
        Assert.Equal([IdHasher.Hash("c1")], await SequenceAt(t0.AddMinutes(1))); // strictly before: the second click is not before its own time

        // A shard that deactivates writes its state and reads it back when it activates again.
        var shard = h.Grains.Sequence(model, field.Name, SequenceShards.Of(user));
        await shard.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        Assert.Equal(expected, await SequenceAt(t0.AddMinutes(4)));

        // Serving fills the third row's sequence before scoring it: its answer is the replica's on that row with that sequence.
        var replica = await QuiesceAsync(h, client, spec);
        var third = Assert.Single(await client.ScoreAsync(model, [Row("u-live", "i3", "c1")], t0.AddMinutes(5)));
        Assert.Equal(replica.Weights, third.Weights);
        var featurizer = new Freshet.Model.Serving.RequestFeaturizer(schema, liveSequences: true);
        Sample Featurized(ulong[] sequence, float[] ages)
        {
            var s = featurizer.FeaturizeRow(Row("u-live", "i3", "c1").Values, 0, TaskKind.Ctr, t0.AddMinutes(5), 0);
            s.Bags[field.Bag] = sequence;
            s.Ages = SequenceTracker.EmptyAges(s.Bags.Length);
            s.Ages[field.Bag] = ages;
            return s;
        }
        float[] expectedAges = [300, 240]; // c1 five minutes before the row, c2 four
        var (withSequence, _, _) = replica.Score([Featurized(expected, expectedAges)]);
        var (withNone, _, _) = replica.Score([Featurized([], [])]);
        var (withOtherAges, _, _) = replica.Score([Featurized(expected, [86_400, 86_400])]);
        Assert.Equal(withSequence[0].Ctr, third.Ctr, 6);
        Assert.NotEqual(withNone[0].Ctr, third.Ctr); // the sequence moved the answer: it was not scored empty
        Assert.NotEqual(withOtherAges[0].Ctr, third.Ctr); // and so did its ages

        // Replay of the same events (the three impressions, the first two clicked) gives the third the same sequence.
        var replayed = Replay(schema, [
            Line(t0, "u-live", "i1", "c1", click: true, conversion: null),
            Line(t0.AddMinutes(1), "u-live", "i2", "c2", click: true, conversion: null),
            Line(t0.AddMinutes(5), "u-live", "i3", "c1", click: false, conversion: null)]);
        Assert.Equal(3, replayed.Count);
        Assert.Equal(expected, replayed[2].Bags[field.Bag]);
        Assert.Equal(expectedAges, replayed[2].Ages![field.Bag]);
    }

    [Fact]
    public async Task A_conversion_is_recorded_at_its_own_time_and_serving_reads_it_as_replay_does()
    {
        await using var h = await ClusterHarness.StartAsync(limits: l => l.MaxClockSkew = TimeSpan.FromDays(1));
        var client = new FreshetClient(h.Client);
        const string model = "bought";
        // schemas/synthetic.json with `bought`: the user's last 5 converted items.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestData.Schema("synthetic.json")))!.AsObject();
        json["fields"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{ "name": "bought", "kind": "sequence", "of": "user", "from": "item", "event": "conversion", "maxLength": 5 }"""));
        var spec = await h.ServeAsync(model, new FeedbackSpec { Method = DelayedFeedback.Fnw, Joiners = 1, ClickWindow = TimeSpan.FromMinutes(30), AttributionWindow = TimeSpan.FromHours(2) },
            samples: 3_000, schemaJson: json.ToJsonString());
        var schema = SchemaLoader.Parse(json.ToJsonString(), "synthetic.json");
        var field = Assert.Single(SequenceField.Of(FeatureLayout.From(schema)));
        Assert.Equal(SequenceEvent.Conversion, field.Event);
        var user = IdHasher.Hash("u-buyer");
        async Task<ulong[]> SequenceAt(DateTime time) =>
            (await h.Grains.Sequence(model, field.Name, SequenceShards.Of(user)).ReadAsync(LiveSequences.Bounds(field), [user], [time.Ticks])).Values[0];

        // Two impressions, both clicked; only the first converts, twenty minutes after its impression.
        var t0 = DateTime.UtcNow.AddHours(-1);
        var first = Assert.Single(await client.ScoreAsync(model, [Row("u-buyer", "i1", "c1")], t0));
        var second = Assert.Single(await client.ScoreAsync(model, [Row("u-buyer", "i2", "c2")], t0.AddMinutes(1)));
        await client.ReportAsync([new FeedbackLabel { Prediction = first.Id, Event = FeedbackEvent.Click, Time = t0.AddMinutes(2) },
            new FeedbackLabel { Prediction = second.Id, Event = FeedbackEvent.Click, Time = t0.AddMinutes(2) }]);
        await client.ReportAsync([new FeedbackLabel { Prediction = first.Id, Event = FeedbackEvent.Conversion, Time = t0.AddMinutes(20) }]);
        ulong[] expected = [IdHasher.Hash("i1")];
        await PublishingTests.WaitAsync(async () => (await SequenceAt(t0.AddMinutes(21))).SequenceEqual(expected), "the joiner records the conversion");
        Assert.Empty(await SequenceAt(t0.AddMinutes(20))); // at the conversion's time, not the impression's: strictly before it, none

        // Serving fills the next row's sequence with the conversion; the answer is the replica's on that row with it.
        var replica = await QuiesceAsync(h, client, spec);
        var third = Assert.Single(await client.ScoreAsync(model, [Row("u-buyer", "i3", "c1")], t0.AddMinutes(30)));
        Assert.Equal(replica.Weights, third.Weights);
        var featurizer = new Freshet.Model.Serving.RequestFeaturizer(schema, liveSequences: true);
        var row = featurizer.FeaturizeRow(Row("u-buyer", "i3", "c1").Values, 0, TaskKind.Ctr, t0.AddMinutes(30), 0);
        row.Bags[field.Bag] = expected;
        row.Ages = SequenceTracker.EmptyAges(row.Bags.Length);
        row.Ages[field.Bag] = [600]; // converted ten minutes before the row
        var (answer, _, _) = replica.Score([row]);
        Assert.Equal(answer[0].Ctr, third.Ctr, 6);
        Assert.Equal(answer[0].Cvr, third.Cvr, 6);

        // Replay of the same events gives the third row the same sequence, and the second (before the conversion) none.
        var replayed = Replay(schema, [
            Line(t0, "u-buyer", "i1", "c1", click: true, conversion: t0.AddMinutes(20)),
            Line(t0.AddMinutes(1), "u-buyer", "i2", "c2", click: true, conversion: null),
            Line(t0.AddMinutes(30), "u-buyer", "i3", "c1", click: false, conversion: null)]);
        Assert.Equal(3, replayed.Count);
        Assert.Empty(replayed[1].Bags[field.Bag]);
        Assert.Equal(expected, replayed[2].Bags[field.Bag]);
        Assert.Equal([600f], replayed[2].Ages![field.Bag]);
    }

    /// <summary>
    /// Stops the deployment's publishing and waits until the replica holds the last version published: the reported labels
    /// train and publish deltas, so without it a served answer and the replica's own score a moment later can be on two
    /// versions of the weights.
    /// </summary>
    private static async Task<Freshet.Model.Serving.ServingReplica> QuiesceAsync(ClusterHarness h, FreshetClient client, Freshet.Deployments.DeploymentSpec spec)
    {
        // The served weights must have trained the categories the sequences hold: a stop before the trainer took the stream
        // publishes rows it never trained (zero vectors), under which a sequence moves no answer.
        var job = h.Job(spec.JobOf(Freshet.Deployments.DeploymentJob.Main));
        await PublishingTests.WaitAsync(async () => (await job.GetStatusAsync()).Trainers.Sum(t => t.SamplesTrained) >= 3_000, "the 3,000 published samples are trained");
        await client.StopAsync(spec.Model);
        var published = (await job.GetStatusAsync()).Published;
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        Freshet.Model.Serving.ServingReplica? replica = null;
        await PublishingTests.WaitAsync(async () => (replica = await registry.GetAsync(spec.Model)).Weights == published, $"the replica holds {published}, the last version published");
        return replica!;
    }

    private static string Line(DateTime at, string user, string item, string category, bool click, DateTime? conversion) =>
        $"{new DateTimeOffset(at).ToUnixTimeMilliseconds()},{user},{item},{category},d1,12.5,{(click ? 1 : 0)},{(conversion is null ? 0 : 1)}," +
        $"{(conversion is { } c ? new DateTimeOffset(c).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) : "")},0.1,0.1";

    /// <summary>The CTR samples replay reads from <paramref name="lines"/> (synthetic columns) under <paramref name="schema"/> as a delimited log.</summary>
    private static List<Sample> Replay(FeatureSchema schema, IEnumerable<string> lines)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(schema.Json)!.AsObject();
        json["source"] = System.Text.Json.Nodes.JsonNode.Parse("""{ "format": "delimited", "delimiter": ",", "header": true }""");
        json.Remove("oracle");
        var dir = Directory.CreateTempSubdirectory("freshet-live-sequence-");
        try
        {
            var log = Path.Combine(dir.FullName, "log.csv");
            File.WriteAllText(log, string.Join('\n', [string.Join(',', Freshet.Model.Synthetic.SyntheticStream.Columns), .. lines]));
            return [.. SampleReader.Open(SchemaLoader.Parse(json.ToJsonString(), "replay.json"), log).Read().Where(s => s.Task == TaskKind.Ctr)];
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
