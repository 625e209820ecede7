using Freshet.Model.Serving;
using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Training;
using Freshet.Parameters;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

public class PublishingTests
{
    private static ScoreRow Row(string user, string item, string category, string device, string price) =>
        ScoreRow.Of(("user", user), ("item", item), ("category", category), ("device", device), ("price", price));

    [Fact]
    public async Task After_a_publish_the_replica_holds_the_snapshot_exactly_and_predicts_like_the_in_process_model()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "pub";
        var job = h.Job("pub-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(20_000).ToList();
        var publisher = new SamplePublisher(h.Client, "pub-job", 1);
        await publisher.PublishAsync(samples.Take(10_000), end: false);
        var first = await job.PublishAsync(); // writes and announces the base checkpoint, then delta 1
        Assert.Equal(1, first.Weights.Delta);
        var scoring = h.Client.GetGrain<IScoringGrain>(0);
        var rows = new List<ScoreRow> { Row("u-new-1", "i-new-1", "c3", "d1", "12.5"), Row("u-new-2", "i-new-2", "c7", "d4", "80") };
        var before = await scoring.ScoreAsync(new ScoreRequest { Model = model, Rows = rows });
        Assert.All(before, p => Assert.Equal(first.Weights.Checkpoint, p.Weights.Checkpoint));

        await publisher.PublishAsync(samples.Skip(10_000), end: false);
        await WaitTrainedAsync(job, 20_000);
        await job.PauseAsync();
        var second = await job.PublishAsync();
        Assert.Equal(2, second.Weights.Delta);
        Assert.True(second.ChangingRows > 0);
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await WaitAsync(() => registry.TryGet(model)?.Weights?.Delta == 2, "the replica applies delta 2");
        var replica = registry.TryGet(model)!;

        // Changing rows (the category embeddings and the stacking head's category biases), dense weights and
        // batch-norm statistics equal the trainer's side, bit for bit.
        var layout = FeatureLayout.From(schema);
        var categories = samples.Select(s => s.Ids[2]).Distinct().ToArray();
        foreach (var table in new[] { "category", "category.bias" })
        {
            var index = layout.TableIndex(table);
            var dim = layout.Tables[index].Dim;
            foreach (var id in categories)
            {
                var shard = h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/{Freshet.Model.Cluster.ShardRouter.ShardOf(id, 2)}");
                var pulled = await shard.PullAsync(new RowPull { Tables = [new TableIds { Index = index, Ids = BitConverter.GetBytes(id), Occurrences = new byte[4] }] });
                var expected = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(pulled.Rows[0]).ToArray();
                var actual = replica.Inspect(m => { var row = new float[dim]; Assert.True(m.Tables[index].TryGetRow(id, row)); return row; });
                Assert.Equal(expected, actual);
                if (table == "category.bias") Assert.NotEqual([0f, 0f], actual); // trained, not the zeros a bias starts at
            }
        }
        Assert.True(layout.Stacking);
        var dense = await h.Grains.GetGrain<IDenseGrain>(model).PullAsync(-1, -1);
        foreach (var tower in dense)
        {
            var served = replica.Inspect(m => (TowerCodec.ReadParameters(m.ComputeModel.TowerOf(tower.Task)), TowerCodec.ReadBuffers(m.ComputeModel.TowerOf(tower.Task))));
            Assert.Equal(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tower.Parameters).ToArray(), served.Item1);
            Assert.Equal(tower.Buffers, served.Item2);
        }

        // Predictions: the same as the in-process model holding the same weights (a checkpoint taken now,
        // scored on rows whose frozen ids the model has never seen, so only shipped tiers matter).
        var after = await scoring.ScoreAsync(new ScoreRequest { Model = model, Rows = rows });
        Assert.All(after, p => Assert.Equal(new WeightsVersion(second.Weights.Checkpoint, 2L), p.Weights));
        Assert.NotEqual(before[0].Ctr, after[0].Ctr);
        var now = await job.CheckpointAsync();
        using var local = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, local, now.Version, modelName: model);
        // The running rates the stacking head reads (one per id field and label): the replica's equal the trainers'.
        Assert.NotEmpty(local.Rates);
        for (var r = 0; r < local.Rates.Count; r++)
        {
            var expected = local.Rates[r].Export();
            var served = replica.Inspect(m => m.Rates[r].Export());
            Assert.Equal(expected.Ids, served.Ids);
            Assert.Equal(expected.Weights, served.Weights);
        }
        var featurized = new Freshet.Model.Serving.RequestFeaturizer(schema).Featurize([.. rows.Select(r => r.Values)], DateTime.UtcNow, 10);
        var ctr = new float[2];
        var cvr = new float[2];
        await new TrainingStep(local, Strategy.Base).ScoreAsync(featurized, TaskKind.Ctr, ctr);
        await new TrainingStep(local, Strategy.Base).ScoreAsync(featurized, TaskKind.Cvr, cvr);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(ctr[i], after[i].Ctr);
            Assert.Equal(cvr[i], after[i].Cvr);
            Assert.Equal(ctr[i] * cvr[i], after[i].Ctcvr);
        }
    }

    [Fact]
    public async Task A_delta_kept_after_a_failed_publish_survives_the_jobs_deactivation()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "unsent";
        var job = h.Job("unsent-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(5000).ToList();
        var publisher = new SamplePublisher(h.Client, "unsent-job", 1);
        await publisher.PublishAsync(samples.Take(3000), end: false);
        await WaitTrainedAsync(job, 3000);
        var first = await job.PublishAsync();
        await publisher.PublishAsync(samples.Skip(3000), end: false);
        await WaitTrainedAsync(job, 5000);
        await job.PauseAsync();

        // Retaining delta 2 fails (a folder stands where its file goes) after its rows were taken from the shard.
        var blocked = Path.Combine(h.CheckpointFolder, "checkpoints", model, first.Weights.Checkpoint.ToString("D10"), CheckpointFiles.Delta(2));
        Directory.CreateDirectory(blocked);
        await Assert.ThrowsAsync<PublishFailedException>(() => job.PublishAsync());
        // The job's activation ends (its silo restarts it elsewhere, or it was collected) before the next publish.
        await h.Cluster.DeactivateAsync(job);
        await h.Cluster.WaitForDeactivationAsync(job);
        Directory.Delete(blocked);

        var delivered = await job.PublishAsync();
        Assert.Equal(first.Weights with { Delta = 2 }, delivered.Weights);
        Assert.True(delivered.ChangingRows > 0, "the rows taken for the failed delta were lost with the job's activation");
    }

    [Fact]
    public async Task Pruning_keeps_the_newest_and_every_checkpoint_serving_or_the_guard_still_needs()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "prune";
        var job = h.Job("prune-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1, KeepCheckpoints = 2 });
        await job.StartAsync();
        await new SamplePublisher(h.Client, "prune-job", 1).PublishAsync(SampleReader.Open(schema, SampleReader.SyntheticData).Read(2000), end: false);
        await WaitTrainedAsync(job, 2000);
        var good = await job.PublishCheckpointAsync();
        // The guard keeps these weights as the good copy on every replica (and shadow-scores with them).
        await h.Grains.GetGrain<IServingVersionGrain>(model).SetGoodAsync(new Freshet.Model.Serving.WeightsVersion(good.Version, 0));
        var later = new List<long>();
        for (var i = 0; i < 3; i++) later.Add((await job.PublishCheckpointAsync()).Version);
        // A job's own checkpoint, which serving is not told of: serving's version is the last announced, and stays.
        var own = await job.CheckpointAsync();

        var versions = await h.Checkpoints.ListVersionsAsync(model);
        Assert.Contains(good.Version, versions);                // the guard's good weights
        Assert.Contains(later[^1], versions);                   // what serving follows (and the base of the deltas)
        Assert.Contains(own.Version, versions);                 // the newest two
        Assert.DoesNotContain(later[0], versions);              // needed by nothing, and older than the newest two
        Assert.Equal([good.Version, later[2], own.Version], versions.Order());
    }

    [Fact]
    public async Task A_publish_that_retained_its_delta_but_failed_before_recording_it_never_has_its_number_reused()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "seq";
        var job = h.Job("seq-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1 });
        await job.StartAsync();
        await new SamplePublisher(h.Client, "seq-job", 1).PublishAsync(SampleReader.Open(schema, SampleReader.SyntheticData).Read(3000), end: false);
        await WaitTrainedAsync(job, 3000);
        await job.PauseAsync();
        var first = await job.PublishAsync();
        Assert.Equal(1, first.Weights.Delta);
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await h.Client.GetGrain<IScoringGrain>(0).GetReplicaAsync(model);
        await WaitAsync(() => registry.TryGet(model)?.Weights?.Delta == 1, "the replica applies delta 1");
        var replica = registry.TryGet(model)!;

        // What a publish leaves when it fails after retaining delta 2 and before recording it: the file, and a job that says 1.
        var template = await Freshet.Model.Serving.ServingReplica.ReadDeltaAsync(h.Checkpoints, model, first.Weights.Checkpoint, CheckpointFiles.Delta(1), CancellationToken.None);
        var lost = new Freshet.Model.Serving.WeightDelta
        {
            Model = model, Version = first.Weights with { Delta = 2 }, SnapshotUtc = DateTime.UtcNow, EventTime = template.EventTime,
            Tables = template.Tables, Rates = template.Rates, Dense = template.Dense,
        }.Encode();
        await h.Checkpoints.WriteAtomicAsync(model, first.Weights.Checkpoint, CheckpointFiles.Delta(2), lost);
        Assert.Equal(1, (await job.GetStatusAsync()).Published?.Delta);

        // The next publish takes 3; the replica fills 2 from the store (as retained) and applies 3.
        var gaps = replica.Gaps;
        var next = await job.PublishAsync();
        Assert.Equal(3, next.Weights.Delta);
        Assert.Equal(3, (await job.GetStatusAsync()).Published?.Delta);
        await WaitAsync(() => replica.Weights?.Delta == 3, "the replica applies delta 3");
        Assert.Equal(gaps + 1, replica.Gaps);
        var path = Path.Combine(h.Checkpoints.VersionPath(model, first.Weights.Checkpoint), CheckpointFiles.Delta(2));
        Assert.Equal(lost, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Rows_evicted_on_the_trainer_are_removed_from_serving_by_the_next_delta()
    {
        await using var h = await ClusterHarness.StartAsync();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestData.Schema("synthetic.json")))!;
        foreach (var field in json["fields"]!.AsArray())
        {
            // Items: a small row cap (per shard: half of it); users: expiry within the stream's hours.
            if ((string?)field!["name"] == "item") field["maxRows"] = 400;
            if ((string?)field!["name"] == "user") field["expireAfter"] = "2h";
        }
        var schema = SchemaLoader.Parse(json.ToJsonString());
        const string model = "evict";
        var job = h.Job("evict-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, FreshRowBudget = 1_000_000 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(40_000).ToList(); // about 6 hours of event time
        var publisher = new SamplePublisher(h.Client, "evict-job", 1);
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        var trained = 0;
        foreach (var chunk in samples.Chunk(10_000))
        {
            await job.ResumeAsync();
            await publisher.PublishAsync(chunk, end: false);
            trained += chunk.Length;
            await WaitTrainedAsync(job, trained);
            await job.PauseAsync();
            var published = await job.PublishAsync();
            await h.Client.GetGrain<IScoringGrain>(0).GetReplicaAsync(model);
            await WaitAsync(() => registry.TryGet(model) is { } r && r.Weights == published.Weights, $"the replica applies delta {published.Weights.Delta}");

            // After each publish the replica holds as many rows per table as the shards do.
            var shardRows = await Task.WhenAll(Enumerable.Range(0, 2).Select(s => h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/{s}").GetStatusAsync()));
            var replica = registry.TryGet(model)!;
            foreach (var (table, index) in new[] { ("user", 0), ("item", 1), ("category", 2) })
            {
                Assert.Equal(shardRows.Sum(st => st.Rows[table]), replica.Inspect(m => (long)m.Tables[index].Count));
            }
        }
        var evicted = (await Task.WhenAll(Enumerable.Range(0, 2).Select(s => h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/{s}").GetStatusAsync()))).Sum(st => st.Rows["item"]);
        Assert.True(evicted <= 400, $"the trainer holds {evicted} item rows, over its cap of 400");

        // And the same rows: a checkpoint of the trainers now has exactly the replica's ids in every table.
        var now = await job.CheckpointAsync();
        using var trainers = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, trainers, now.Version, modelName: model);
        var served = registry.TryGet(model)!;
        for (var t = 0; t < trainers.Tables.Count; t++)
        {
            Assert.Equal(trainers.Tables[t].Export().Ids, served.Inspect(m => m.Tables[t].Export().Ids));
        }
    }

    internal static async Task WaitTrainedAsync(ITrainingOrchestratorGrain job, long samples)
    {
        await WaitAsync(async () => (await job.GetStatusAsync()).Trainers.Sum(t => t.SamplesTrained) >= samples, $"{samples} samples trained");
    }

    internal static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    internal static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting until " + what);
            await Task.Delay(20);
        }
    }
}
