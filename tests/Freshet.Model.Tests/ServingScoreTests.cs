using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>A replica's scoring path (one gather for both towers, steps reused) answers what the training step's forward does.</summary>
public sealed class ServingScoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "freshet-serving-" + Guid.NewGuid().ToString("N"));
    private readonly FeatureSchema _schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private async Task<(ServingReplica Replica, InProcessParameterStore Trained, List<Sample> Rows)> TrainedAsync()
    {
        var samples = SampleReader.Open(_schema, "synthetic").Read(6_000).ToList();
        var trained = new InProcessParameterStore(_schema);
        var step = new TrainingStep(trained, Strategy.All);
        var batch = _schema.Model.BatchSize;
        var scores = new float[batch];
        foreach (var task in new[] { TaskKind.Ctr, TaskKind.Cvr })
        {
            var of = samples.Where(s => s.Task == task).ToList();
            for (var i = 0; i + batch <= of.Count; i += batch) await step.RunAsync(of.GetRange(i, batch), task, true, scores);
        }
        var store = new LocalCheckpointStore(_root);
        var manifest = await ModelCheckpoint.SaveAsync(store, trained, null, 0, "all", modelName: "m");
        var replica = new ServingReplica(_schema, "m");
        await replica.LoadAsync(store, manifest.Version);
        return (replica, trained, [.. samples.Where(s => s.Task == TaskKind.Ctr).Take(300)]);
    }

    [Fact]
    public async Task A_replica_scores_both_towers_as_the_training_steps_forward_does()
    {
        var (replica, trained, rows) = await TrainedAsync();
        using var _ = replica;
        using var __ = trained;
        var reference = new TrainingStep(trained, Strategy.Base);
        var ctr = new float[rows.Count];
        var cvr = new float[rows.Count];
        await reference.ScoreAsync(rows, TaskKind.Ctr, ctr);
        await reference.ScoreAsync(rows, TaskKind.Cvr, cvr);
        Assert.Contains(ctr, p => Math.Abs(p - ctr[0]) > 1e-4); // a trained model, not a constant

        var (results, _, _) = replica.Score(rows);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(ctr[i], results[i].Ctr, 6);
            Assert.Equal(cvr[i], results[i].Cvr, 6);
            Assert.Equal(ctr[i] * cvr[i], results[i].Ctcvr, 6);
        }
    }

    [Fact]
    public async Task Callers_scoring_at_once_each_get_their_own_rows_answers()
    {
        var (replica, trained, rows) = await TrainedAsync();
        using var _ = replica;
        using var __ = trained;
        // Calls of different sizes, so a step reused by another caller with a larger batch would show its rows here.
        var calls = Enumerable.Range(0, 8).Select(c => rows.Skip(c * 30).Take(1 + c * 7).ToList()).ToList();
        var expected = calls.Select(c => replica.Score(c).Results).ToList();
        var answers = await Task.WhenAll(calls.Select((c, k) => Task.Run(() =>
        {
            var all = new List<ScoreResult[]>();
            for (var round = 0; round < 40; round++) all.Add(replica.Score(c).Results);
            return all;
        })));
        for (var k = 0; k < calls.Count; k++)
        {
            foreach (var answer in answers[k]) Assert.Equal(expected[k], answer);
        }
    }
}
