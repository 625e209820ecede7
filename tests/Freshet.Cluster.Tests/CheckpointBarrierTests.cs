using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Cluster.Tests;

public class CheckpointBarrierTests
{
    [Fact]
    public async Task A_checkpoint_taken_while_training_runs_holds_one_step_boundary()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "barrier";
        var job = h.Job("barrier-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 3, Trainers = 1 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(40_000).ToList();
        CheckpointResult? taken = null;
        long trainedAtCheckpoint = 0;
        await new SamplePublisher(h.Client, "barrier-job", 1) { MaxInFlight = 8192 }.PublishAsync(samples, after: async published =>
        {
            if (taken is null && published >= 20_000)
            {
                // The publisher's bound counts what the trainer has taken off its streams, not what it has trained:
                // on a slow machine the first steps may still be running here, so wait until one has ended.
                await PublishingTests.WaitTrainedAsync(job, 1);
                trainedAtCheckpoint = (await job.GetStatusAsync()).Trainers[0].SamplesTrained;
                taken = await job.CheckpointAsync();
            }
        });
        var done = await ClusterTrainingTests.WaitCompletedAsync(job);
        Assert.NotNull(taken);
        Assert.True(trainedAtCheckpoint > 0 && trainedAtCheckpoint < 40_000, "the checkpoint was taken while training ran");
        var barrierStep = taken.Steps["barrier-job/0"];
        Assert.True(done.Trainers[0].Steps > barrierStep, "training went on after the checkpoint");

        var manifest = CheckpointManifest.Parse(await h.Checkpoints.ReadManifestAsync(model, taken.Version) ?? throw new InvalidOperationException("no manifest"), "test");
        Assert.Equal(barrierStep, manifest.Steps!["barrier-job/0"]);
        // Every step pushes the dense tier, so the dense file is exactly at the barrier step; every shard
        // file is at or before it (a shard sees only the steps that touched its ids), and none is after.
        var dense = manifest.Files.Single(f => f.Kind == "dense");
        Assert.Equal(barrierStep, dense.Steps!["barrier-job/0"]);
        var shardSteps = manifest.Files.Where(f => f.Kind == "shard").Select(f => f.Steps!["barrier-job/0"]).ToList();
        Assert.All(shardSteps, s => Assert.True(s <= barrierStep, $"a shard file holds step {s}, after the barrier at {barrierStep}"));
        Assert.Contains(barrierStep, shardSteps);

        // The checkpoint is a whole model: it loads into the in-process store and predicts.
        using var restored = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, restored, taken.Version, modelName: model);
        var held = samples.Skip(39_000).Where(s => s.Task == TaskKind.Ctr).ToList();
        var scores = new float[held.Count];
        await new TrainingStep(restored, Strategy.Base).ScoreAsync(held, TaskKind.Ctr, scores);
        Assert.True(Freshet.Model.Metrics.Auc.Compute(scores, held.Select(s => s.Label).ToArray()) > 0.6);
    }

    [Fact]
    public async Task A_job_restores_from_a_checkpoint_version_and_keeps_the_last_k()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "restore";
        var first = h.Job("restore-a");
        await first.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, KeepCheckpoints = 2 });
        await first.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6000).ToList();
        await new SamplePublisher(h.Client, "restore-a", 1).PublishAsync(samples);
        await ClusterTrainingTests.WaitCompletedAsync(first);
        var v1 = await first.CheckpointAsync();
        var v2 = await first.CheckpointAsync();
        var v3 = await first.CheckpointAsync();
        Assert.Equal([v2.Version, v3.Version], await h.Checkpoints.ListVersionsAsync(model));

        var second = h.Job("restore-b");
        await second.CreateAsync(new JobSpec { Model = "restored", SchemaJson = schema.Json, Shards = 3 }); // another model, another shard count
        var missing = await Assert.ThrowsAsync<JobRequestException>(() => h.Job("restore-c").CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, RestoreVersion = v1.Version }));
        Assert.Contains($"checkpoint version {v1.Version} of model '{model}' does not exist", missing.Message);
        var third = h.Job("restore-d");
        await third.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 5, RestoreVersion = v3.Version });
        await third.StartAsync();
        var rows = await Task.WhenAll(Enumerable.Range(0, 5).Select(s => h.Grains.GetGrain<Freshet.Parameters.IEmbeddingShardGrain>($"{model}/{s}").GetStatusAsync()));
        var original = await Task.WhenAll(Enumerable.Range(0, 2).Select(s => h.Grains.GetGrain<Freshet.Parameters.IEmbeddingShardGrain>($"{model}/{s}").GetStatusAsync()));
        Assert.All(rows, r => Assert.Equal(v3.Version, r.LoadedCheckpoint));
        Assert.True(rows.Sum(r => r.Rows["item"]) > 0);
    }
}
