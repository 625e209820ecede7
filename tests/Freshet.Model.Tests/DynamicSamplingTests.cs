using System.Threading.Channels;
using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Tests.Support;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>CTR and CVR arrive on two streams; the trainer takes whichever has a batch and never waits on the other.</summary>
public class DynamicSamplingTests
{
    private static readonly Random Rng = new(11);

    private static Sample Make(TaskKind task, long time) => new()
    {
        Task = task,
        Time = time,
        Label = Rng.NextDouble() < 0.3 ? 1 : 0,
        Ids = [IdHasher.Hash("u" + Rng.Next(50)), IdHasher.Hash("i" + Rng.Next(50)), IdHasher.Hash("c" + Rng.Next(4))],
        Bags = [[IdHasher.Hash("i" + Rng.Next(50))]],
        Numerics = [(float)Rng.NextDouble()],
    };

    [Fact]
    public async Task Ctr_training_goes_on_at_full_rate_while_the_cvr_stream_is_starved()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        using var store = new InProcessParameterStore(schema);
        var trainer = new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 8, MaxBatchWait = TimeSpan.FromHours(1) });
        var steps = new List<StepInfo>();
        trainer.StepCompleted += s => { lock (steps) steps.Add(s); };
        var ctr = Channel.CreateUnbounded<Sample>();
        var cvr = Channel.CreateUnbounded<Sample>(); // never written, never completed
        using var cancel = new CancellationTokenSource();
        var run = trainer.RunAsync(ctr.Reader, cvr.Reader, cancel.Token);

        // Feed 40 full CTR batches, a batch at a time: each must be trained without waiting for CVR.
        for (var b = 0; b < 40; b++)
        {
            for (var i = 0; i < 8; i++) ctr.Writer.TryWrite(Make(TaskKind.Ctr, b * 8 + i));
            var expected = b + 1;
            await Wait.Until(() => { lock (steps) return steps.Count == expected; }, $"CTR step {expected}");
        }
        Assert.All(steps, s => Assert.Equal(TaskKind.Ctr, s.Task));
        Assert.All(steps, s => Assert.Equal(8, s.Samples));
        Assert.All(steps, s => Assert.True(s.Trained));
        Assert.Equal(320, trainer.CtrEvaluation.Count);
        Assert.Equal(0, trainer.CvrEvaluation.Count);
        Assert.False(run.IsCompleted); // still serving both streams

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task A_thin_cvr_stream_gets_its_partial_batch_trained_after_the_wait_without_holding_ctr()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        using var store = new InProcessParameterStore(schema);
        var trainer = new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 8, CvrBatchSize = 8, MaxBatchWait = TimeSpan.FromMilliseconds(200) });
        var steps = new List<StepInfo>();
        trainer.StepCompleted += s => { lock (steps) steps.Add(s); };
        var ctr = Channel.CreateUnbounded<Sample>();
        var cvr = Channel.CreateUnbounded<Sample>();
        using var cancel = new CancellationTokenSource();
        var run = trainer.RunAsync(ctr.Reader, cvr.Reader, cancel.Token);

        for (var i = 0; i < 3; i++) cvr.Writer.TryWrite(Make(TaskKind.Cvr, i)); // a partial CVR batch
        for (var i = 0; i < 16; i++) ctr.Writer.TryWrite(Make(TaskKind.Ctr, i)); // two full CTR batches
        await Wait.Until(() => { lock (steps) return steps.Count(s => s.Task == TaskKind.Ctr) == 2; }, "two CTR steps");
        await Wait.Until(() => { lock (steps) return steps.Any(s => s.Task == TaskKind.Cvr); }, "the partial CVR batch");
        lock (steps)
        {
            Assert.Equal(3, steps.Single(s => s.Task == TaskKind.Cvr).Samples);
        }
        ctr.Writer.Complete();
        cvr.Writer.Complete();
        var report = await run;
        Assert.Equal(19, report.Samples);
        Assert.Equal(3, report.Cvr.Samples);
    }

    [Fact]
    public async Task Replay_trains_every_sample_of_both_tasks_and_flushes_partial_batches()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        using var store = new InProcessParameterStore(schema);
        var trainer = new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 16 });
        var samples = Enumerable.Range(0, 1000).Select(i => Make(i % 10 == 0 ? TaskKind.Cvr : TaskKind.Ctr, i)).ToList();
        var report = await trainer.ReplayAsync(samples);
        Assert.Equal(1000, report.Samples);
        Assert.Equal(900, report.Ctr.Samples);
        Assert.Equal(100, report.Cvr.Samples);
        Assert.NotNull(report.Ctr.Auc);
        Assert.NotNull(report.Cvr.Auc);
    }

    [Fact]
    public async Task A_reader_error_surfaces_from_the_trainer()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        using var store = new InProcessParameterStore(schema);
        var trainer = new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 4 });
        static IEnumerable<Sample> Broken()
        {
            yield return Make(TaskKind.Ctr, 0);
            throw new MalformedRowException("log.csv", 2, "time", "bad time");
        }
        var e = await Assert.ThrowsAsync<MalformedRowException>(() => trainer.ReplayAsync(Broken()));
        Assert.Equal(2, e.Line);
    }
}
