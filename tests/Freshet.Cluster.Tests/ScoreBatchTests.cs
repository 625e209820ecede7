using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Freshet.Client;
using Freshet.Feedback;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Training;
using Freshet.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>
/// The SDK's scoring wire: rows as one batch of UTF-8 values (<see cref="ScoreBatch"/>) and the answer as buffers
/// (<see cref="ScoreAnswer"/>). A batch featurizes exactly as its rows do, and a silo refuses a malformed one in words.
/// </summary>
public class ScoreBatchTests
{
    /// <summary>The synthetic schema with a list field (separator '|', last 3 kept) and a numeric without a transform.</summary>
    private static FeatureSchema Schema()
    {
        var json = JsonNode.Parse(File.ReadAllText(TestData.Schema("synthetic.json")))!;
        var fields = json["fields"]!.AsArray();
        fields.Add(JsonNode.Parse("""{ "name": "tags", "column": "tags", "kind": "ids", "table": "category", "tier": "changing", "dim": 8, "separator": "|", "maxLength": 3 }"""));
        fields.Add(JsonNode.Parse("""{ "name": "score", "column": "score:float", "kind": "numeric" }"""));
        return SchemaLoader.Parse(json.ToJsonString(), "synthetic+tags");
    }

    private static readonly string[] Names = ["user", "item", "category", "device", "price", "tags", "score", "unknown"];

    private static Gen<string> Pick(params string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    /// <summary>Text a caller may send: ids with spaces, separators, non-ASCII letters and emoji, numbers good and bad.</summary>
    private static readonly Gen<string> Value = Gen.OneOf(
        Pick("a", "b", "|", " ", "c9", "é", "€", "\U0001F600").Array[0, 8].Select(parts => string.Concat(parts)),
        Gen.Double[-1e6, 1e6].Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Const(""), Gen.Const(" x | y |z|w "), Gen.Const("NaN"), Gen.Const("12,5"));

    private static readonly Gen<ScoreRow[]> Rows =
        Gen.Dictionary(Pick(Names[..7]), Value)[0, 7]
            .Select(d => new ScoreRow { Values = d })
            .Array[1, 12];

    private static string Outcome(Func<List<Sample>> featurize)
    {
        try
        {
            return string.Join("\n", featurize().Select(s =>
                $"{string.Join(",", s.Ids)} / {string.Join(";", s.Bags.Select(b => string.Join(",", b)))} / {string.Join(",", s.Numerics)}"));
        }
        catch (ArgumentException e)
        {
            return "refused: " + e.Message;
        }
    }

    [Fact]
    public void A_batch_featurizes_as_its_rows_do_value_for_value_and_refuses_as_they_do()
    {
        var featurizer = new RequestFeaturizer(Schema(), liveSequences: true);
        var now = new DateTime(2026, 3, 2, 12, 0, 0, DateTimeKind.Utc);
        Gen.Select(Rows, Gen.Bool).Sample((rows, addUnknown) =>
        {
            if (addUnknown) rows[^1] = new ScoreRow { Values = new Dictionary<string, string>(rows[^1].Values) { ["unknown"] = "v" } };
            var batch = ScoreBatch.Of("m", rows, now);
            Assert.Null(batch.Problem());
            var byRows = Outcome(() => featurizer.Featurize([.. rows.Select(r => r.Values)], now, ScoreRequest.MaxRows));
            var byBatch = Outcome(() => featurizer.Featurize(batch.Fields, batch.Rows, batch.Lengths, batch.Text, now, ScoreRequest.MaxRows, ScoreRequest.MaxValueLength));
            Assert.Equal(byRows, byBatch);
        }, iter: 2000);
    }

    [Fact]
    public void A_batch_whose_counts_do_not_add_up_is_refused_in_words_before_a_value_is_read()
    {
        var good = ScoreBatch.Of("m", [ScoreRow.Of(("user", "u1"), ("item", "i1")), ScoreRow.Of(("user", "u2"))], null);
        Assert.Null(good.Problem());
        Assert.Equal([2, 2, 2, -1], good.Lengths);
        var cases = new (ScoreBatch Batch, string Says)[]
        {
            (good with { Model = "../x" }, "model"),
            (good with { Rows = 0 }, "no rows"),
            (good with { Rows = ScoreRequest.MaxRows + 1 }, "at most 1000"),
            (good with { Fields = ["user", "user"] }, "named twice"),
            (good with { Fields = ["user", ""] }, "without a name"),
            (good with { Lengths = [2, 2, 2] }, "3 value lengths for 2 rows of 2 fields"),
            (good with { Lengths = [2, 2, 2, -2] }, "-2 bytes"),
            (good with { Lengths = [2, 2, 2, ScoreBatch.MaxValueBytes + 1] }, "at most 3072"),
            (good with { Lengths = [2, 2, 3, -1] }, "add up to 7 bytes, the text has 6"),
            (good with { Text = null! }, "incomplete"),
        };
        foreach (var (batch, says) in cases) Assert.Contains(says, batch.Problem());
    }

    [Fact]
    public void An_answer_reads_back_as_the_predictions_it_was_made_of_and_a_short_one_is_refused()
    {
        var ids = ScoreAnswer.NewIds(3).Select(g => new PredictionId("m", PredictionId.JoinerOf(g, 4), g)).ToArray();
        Assert.All(ids, id => Assert.Equal(4, id.Value.Version));
        Assert.Equal(3, ids.Select(i => i.Value).Distinct().Count());
        var answer = ScoreAnswer.Of([0.1f, 0.2f, 0.02f, 0.3f, 0.4f, 0.12f, 0.5f, 0.6f, 0.3f], ids, new WeightsVersion(3, 7), TimeSpan.FromSeconds(2), 4);
        var predictions = answer.Predictions("m", 3);
        Assert.Equal([0.1f, 0.3f, 0.5f], predictions.Select(p => p.Ctr));
        Assert.Equal([0.2f, 0.4f, 0.6f], predictions.Select(p => p.Cvr));
        Assert.Equal([0.02f, 0.12f, 0.3f], predictions.Select(p => p.Ctcvr));
        Assert.Equal(ids, predictions.Select(p => p.Id));
        Assert.All(predictions, p => Assert.Equal((new WeightsVersion(3, 7), TimeSpan.FromSeconds(2)), (p.Weights, p.WeightsAge)));
        Assert.Throws<InvalidDataException>(() => answer.Predictions("m", 4));
        Assert.Throws<InvalidDataException>(() => (answer with { Ids = answer.Ids[..^1] }).Predictions("m", 3));
        Assert.Throws<InvalidDataException>(() => (answer with { Joiners = 0 }).Predictions("m", 3));
    }

    [Fact]
    public async Task A_silo_refuses_a_malformed_or_undecodable_batch_in_words_and_goes_on_scoring_both_wires_alike()
    {
        await using var h = await ClusterHarness.StartAsync();
        using (var model = new InProcessParameterStore(SchemaLoader.Load(TestData.Schema("synthetic.json"))))
        {
            await ModelCheckpoint.SaveAsync(h.Checkpoints, model, null, 0, "all", modelName: "shop");
        }
        var scoring = h.Client.GetGrain<IScoringGrain>(0);
        var rows = new[] { ScoreRow.Of(("user", "u1"), ("item", "i1"), ("price", "12")), ScoreRow.Of(("user", "u2"), ("category", "c3")) };
        var good = ScoreBatch.Of("shop", rows, null);

        var counts = await Assert.ThrowsAsync<ScoringRequestException>(() => scoring.ScoreBatchAsync(good with { Lengths = [.. good.Lengths[..^1], 500] }));
        Assert.Contains("add up to", counts.Message);
        // 0xC3 0x28: a two-byte lead followed by an ASCII byte, not UTF-8.
        var text = (byte[])good.Text.Clone();
        text[0] = 0xC3;
        text[1] = 0x28;
        var undecodable = await Assert.ThrowsAsync<ScoringRequestException>(() => scoring.ScoreBatchAsync(good with { Text = text }));
        Assert.Contains("row 0: field 'user': the value is not UTF-8 text", undecodable.Message);
        var unknown = await Assert.ThrowsAsync<ScoringRequestException>(() => scoring.ScoreBatchAsync(ScoreBatch.Of("shop", [rows[0], ScoreRow.Of(("colour", "red"))], null)));
        Assert.Contains("row 1: field 'colour' is not in model", unknown.Message);
        var notNumber = await Assert.ThrowsAsync<ScoringRequestException>(() => scoring.ScoreBatchAsync(ScoreBatch.Of("shop", [ScoreRow.Of(("price", "cheap"))], null)));
        Assert.Contains("row 0: field 'price': 'cheap' is not a number", notNumber.Message);

        // The silo goes on, and the batch and the rows as they are score alike, row for row.
        var batched = (await scoring.ScoreBatchAsync(good)).Predictions("shop", rows.Length);
        var asRows = await scoring.ScoreAsync(new ScoreRequest { Model = "shop", Rows = rows });
        Assert.Equal(asRows.Select(p => (p.Ctr, p.Cvr, p.Weights)), batched.Select(p => (p.Ctr, p.Cvr, p.Weights)));
        var sdk = await new FreshetClient(h.Client).ScoreAsync("shop", rows);
        Assert.Equal(asRows.Select(p => p.Ctr), sdk.Select(p => p.Ctr));
        Assert.All(sdk, p => Assert.Equal("shop", p.Id.Model));
    }
}
