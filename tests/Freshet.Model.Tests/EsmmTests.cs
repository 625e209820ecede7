using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;
using Freshet.Model.Towers;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>
/// <c>model.cvrLoss</c>: with <c>esmm</c> each task's step also trains the other tower through pCTCVR = pCTR x pCVR,
/// with <c>clicks</c> never; pCTCVR is scored on impressions either way; and no step trains on a conversion
/// before the click that carries it was scored.
/// </summary>
public class EsmmTests
{
    private static FeatureSchema Schema(string cvrLoss)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Schemas.GradientCheck)!;
        json["model"]!["cvrLoss"] = cvrLoss;
        json["model"]!["hidden"] = new System.Text.Json.Nodes.JsonArray(16, 8);
        return Schemas.Parse(json.ToJsonString());
    }

    private static List<Sample> Stream(int count)
    {
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        return SampleReader.Open(schema, SampleReader.SyntheticData).Read(count).ToList();
    }

    private static FeatureSchema Synthetic(string cvrLoss)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestData.Schema("synthetic.json")))!;
        json["model"] = new System.Text.Json.Nodes.JsonObject { ["cvrLoss"] = cvrLoss, ["hidden"] = new System.Text.Json.Nodes.JsonArray(16, 8) };
        return SchemaLoader.Parse(json.ToJsonString());
    }

    [Theory]
    [InlineData("clicks", false)]
    [InlineData("esmm", true)]
    public async Task A_step_trains_the_other_tower_only_with_esmm(string cvrLoss, bool trainsPartner)
    {
        var schema = Synthetic(cvrLoss);
        Assert.Equal(trainsPartner, FeatureLayout.From(schema).Esmm);
        using var store = new InProcessParameterStore(schema);
        var step = new TrainingStep(store, Strategy.All);
        var samples = Stream(4000);
        var ctr = samples.Where(s => s.Task == TaskKind.Ctr).ToList();
        var cvr = samples.Where(s => s.Task == TaskKind.Cvr).ToList();
        Assert.True(cvr.Count >= 64);
        var scores = new float[256];
        // Each tower takes a step of its own first (a tower's first step sets its output bias from the batch's rate).
        await step.RunAsync(ctr[..256], TaskKind.Ctr, true, scores);
        await step.RunAsync(cvr[..32], TaskKind.Cvr, true, scores);

        var cvrBefore = TowerCodec.ReadParameters(store.ComputeModel.Cvr);
        await step.RunAsync(ctr[256..512], TaskKind.Ctr, true, scores);
        Assert.Equal(trainsPartner, !cvrBefore.SequenceEqual(TowerCodec.ReadParameters(store.ComputeModel.Cvr)));

        var ctrBefore = TowerCodec.ReadParameters(store.ComputeModel.Ctr);
        await step.RunAsync(cvr[32..64], TaskKind.Cvr, true, scores);
        Assert.Equal(trainsPartner, !ctrBefore.SequenceEqual(TowerCodec.ReadParameters(store.ComputeModel.Ctr)));
    }

    [Fact]
    public void The_option_is_read_from_the_schema_and_a_wrong_value_is_named()
    {
        Assert.Equal(CvrLoss.Clicks, Schemas.Parse(Schemas.GradientCheck).Model.CvrLoss);
        Assert.True(FeatureLayout.From(Schema("esmm")).Esmm);
        var error = Assert.ThrowsAny<Exception>(() => Schema("impressions"));
        Assert.Contains("cvrLoss", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Pctcvr_on_impressions_is_pctr_times_pcvr()
    {
        var schema = Synthetic("clicks");
        using var store = new InProcessParameterStore(schema);
        var step = new TrainingStep(store, Strategy.All);
        var batch = Stream(600).Where(s => s.Task == TaskKind.Ctr).Take(64).ToList();
        var ctr = new float[64];
        var ctcvr = new float[64];
        var cvr = new float[64];
        await step.RunAsync(batch, TaskKind.Ctr, false, ctr, default, ctcvr);
        await step.ScoreAsync(batch, TaskKind.Cvr, cvr);
        for (var i = 0; i < batch.Count; i++) Assert.Equal(ctr[i] * cvr[i], ctcvr[i], 1e-6f);
    }

    [Fact]
    public async Task Pctcvr_windows_are_metered_under_their_own_tag_not_as_ctr()
    {
        var tags = new System.Collections.Concurrent.ConcurrentBag<string>();
        var (instruments, meters) = Freshet.Model.Telemetry.FreshetInstruments.Standalone();
        using var _ = meters;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "freshet.training.window.auc" && ReferenceEquals(instrument.Meter.Scope, meters)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, _, t, _) =>
        {
            foreach (var tag in t)
            {
                if (tag.Key == "task") tags.Add((string)tag.Value!);
            }
        });
        listener.Start();
        var schema = Synthetic("clicks");
        using var store = new InProcessParameterStore(schema);
        var report = await new StreamingTrainer(schema, store, new TrainerOptions { Window = TimeSpan.FromMinutes(10), Instruments = instruments }).ReplayAsync(Stream(6000));
        Assert.NotNull(report.Ctcvr?.Auc);
        Assert.Contains("ctcvr", tags);
    }

    /// <summary>
    /// Progressive validation stays honest under ESMM: flipping the conversion of click k (its CVR sample's label and
    /// its impression's pCTCVR label) changes no score taken at or before the step that scored k.
    /// </summary>
    [Theory]
    [InlineData("clicks")]
    [InlineData("esmm")]
    public async Task No_score_up_to_a_clicks_own_sees_its_conversion(string cvrLoss)
    {
        var schema = Synthetic(cvrLoss);
        var stream = Stream(6000);
        var k = Enumerable.Range(stream.Count / 2, stream.Count / 2).First(i => stream[i].Task == TaskKind.Cvr && stream[i].Label > 0);
        var impression = stream[k - 1]; // the reader emits a click's CVR sample right after its impression
        Assert.Equal(TaskKind.Ctr, impression.Task);
        Assert.Equal(1f, impression.ConversionLabel);
        Assert.True(impression.Ids.SequenceEqual(stream[k].Ids));
        var before = await ScoresAsync(schema, stream, stream[k]);

        var flipped = stream.ToList();
        flipped[k - 1] = Copy(impression, impression.Label, 0f);
        flipped[k] = Copy(stream[k], 0f, float.NaN);
        var after = await ScoresAsync(schema, flipped, flipped[k]);

        var kStep = before.KStep;
        var same = 0;
        var changed = 0;
        for (var i = 0; i < stream.Count; i++)
        {
            var (step, score) = before.Scores[i];
            if (step <= kStep)
            {
                Assert.True(score == after.Scores[i].Score, $"sample {i} scored on step {step}, at or before click {k}'s step {kStep}, saw its conversion");
                same++;
            }
            else if (score != after.Scores[i].Score)
            {
                changed++;
            }
        }
        Assert.True(same > stream.Count / 3);
        Assert.True(changed > 0, "no later score changed either: the test would pass on a model that ignores conversions");
    }

    private static Sample Copy(Sample s, float label, float conversionLabel) => new()
    {
        Task = s.Task, Time = s.Time, Label = label, Ids = s.Ids, Bags = s.Bags, Numerics = s.Numerics, Group = s.Group,
        TrueProbability = s.TrueProbability, ConversionTime = s.ConversionTime, ConversionLabel = conversionLabel,
    };

    private static async Task<(List<(int Step, float Score)> Scores, int KStep)> ScoresAsync(FeatureSchema schema, List<Sample> stream, Sample k)
    {
        var index = new Dictionary<Sample, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < stream.Count; i++) index[stream[i]] = i;
        var scores = new (int Step, float Score)[stream.Count];
        var steps = 0;
        var kStep = -1;
        using var store = new InProcessParameterStore(schema);
        var options = new TrainerOptions
        {
            BatchSize = 64,
            CvrBatchSize = 16,
            Inspect = (batch, _, batchScores) =>
            {
                steps++;
                var s = batchScores.Span;
                for (var i = 0; i < batch.Count; i++)
                {
                    scores[index[batch[i]]] = (steps, s[i]);
                    if (ReferenceEquals(batch[i], k)) kStep = steps;
                }
            },
        };
        await new StreamingTrainer(schema, store, options).ReplayAsync(stream);
        Assert.True(kStep > 0);
        return ([.. scores], kStep);
    }
}
