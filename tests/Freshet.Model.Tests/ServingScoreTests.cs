using System.Runtime.CompilerServices;
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

    private Task<(ServingReplica Replica, InProcessParameterStore Trained, List<Sample> Rows)> TrainedAsync() => TrainedAsync(_schema);

    private async Task<(ServingReplica Replica, InProcessParameterStore Trained, List<Sample> Rows)> TrainedAsync(FeatureSchema schema)
    {
        var samples = SampleReader.Open(schema, "synthetic").Read(6_000).ToList();
        var trained = new InProcessParameterStore(schema);
        var step = new TrainingStep(trained, Strategy.All);
        var batch = schema.Model.BatchSize;
        var scores = new float[batch];
        foreach (var task in new[] { TaskKind.Ctr, TaskKind.Cvr })
        {
            var of = samples.Where(s => s.Task == task).ToList();
            for (var i = 0; i + batch <= of.Count; i += batch) await step.RunAsync(of.GetRange(i, batch), task, true, scores);
        }
        var store = new LocalCheckpointStore(_root);
        var manifest = await ModelCheckpoint.SaveAsync(store, trained, null, 0, "all", modelName: "m");
        var replica = new ServingReplica(schema, "m");
        await replica.LoadAsync(store, manifest.Version);
        return (replica, trained, [.. samples.Where(s => s.Task == TaskKind.Ctr).Take(300)]);
    }

    [Theory]
    [InlineData("synthetic.json")]
    [InlineData("synthetic-intent.json")] // a sequence pooled by attention: its unit and recency terms go through the checkpoint
    public async Task A_replica_scores_both_towers_as_the_training_steps_forward_does(string schemaFile)
    {
        var (replica, trained, rows) = await TrainedAsync(SchemaLoader.Load(TestData.Schema(schemaFile)));
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

    /// <summary>
    /// A model swapped out is not kept by the steps that scored with it: those steps were kept in a ConcurrentBag, whose
    /// thread-local lists held them (and through them the model) for as long as the threads that scored lived.
    /// </summary>
    [Fact]
    public async Task A_model_swapped_out_is_collected_while_the_threads_that_scored_with_it_live_on()
    {
        var (replica, trained, rows) = await TrainedAsync();
        // On a fresh stack: the first load's completion may have run this continuation inside its own frame, whose locals
        // would then hold the first model for the whole test.
        await Task.Yield();
        using var _ = replica;
        using var __ = trained;
        var store = new LocalCheckpointStore(_root);
        var version = replica.Weights!.Value.Checkpoint;
        // Scoring threads that outlive the swaps, as the thread pool's do: each scores once per round, then waits.
        using var stop = new CancellationTokenSource();
        var rounds = Enumerable.Range(0, 4).Select(_ => new SemaphoreSlim(0)).ToList();
        using var scored = new SemaphoreSlim(0);
        var threads = rounds.Select(go => new Thread(() =>
        {
            try
            {
                while (true)
                {
                    go.Wait(stop.Token);
                    replica.Score(rows);
                    scored.Release();
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        // The swaps run on a pool thread, so no frame of this one still holds a model when it collects.
        var swappedOut = await Task.Run(async () =>
        {
            var references = new List<WeakReference>();
            for (var swap = 0; swap < 3; swap++)
            {
                rounds.ForEach(go => go.Release());
                for (var t = 0; t < rounds.Count; t++) Assert.True(await scored.WaitAsync(TimeSpan.FromMinutes(1)), "a scoring thread did not answer");
                references.Add(Reference(replica));
                await replica.LoadAsync(store, version); // the same checkpoint again: a new model in service, the old one disposed
            }
            // The threads score once more, with the model now in service.
            rounds.ForEach(go => go.Release());
            for (var t = 0; t < rounds.Count; t++) Assert.True(await scored.WaitAsync(TimeSpan.FromMinutes(1)), "a scoring thread did not answer");
            return references;
        });
        try
        {
            for (var i = 0; i < 3 && swappedOut.Any(w => w.IsAlive); i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.True(swappedOut.All(w => !w.IsAlive), $"models swapped out still reachable (in swap order): {string.Join(", ", swappedOut.Select(w => w.IsAlive ? "yes" : "no"))}");
        }
        finally
        {
            stop.Cancel();
            threads.ForEach(t => t.Join());
            rounds.ForEach(go => go.Dispose());
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference Reference(ServingReplica replica) => new(replica.Inspect(m => m));

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
