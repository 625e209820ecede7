using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Training;
using Freshet.Parameters;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

public class ServingSwapTests
{
    private static readonly List<ScoreRow> Rows =
    [
        ScoreRow.Of(("user", "u10"), ("item", "i20"), ("category", "c1"), ("device", "d1"), ("price", "10")),
        ScoreRow.Of(("user", "u999999"), ("item", "i5"), ("category", "c2"), ("device", "d2"), ("price", "30")),
    ];

    private static async Task<float[]> ExpectedAsync(ClusterHarness h, FeatureSchema schema, string model, long version)
    {
        using var local = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, local, version, modelName: model);
        var samples = new RequestFeaturizer(schema).Featurize([.. Rows.Select(r => r.Values)], DateTime.UtcNow, 10);
        var ctr = new float[samples.Count];
        await new TrainingStep(local, Strategy.Base).ScoreAsync(samples, TaskKind.Ctr, ctr);
        return ctr;
    }

    [Fact]
    public async Task Scoring_through_a_checkpoint_swap_never_fails_and_never_sees_a_torn_model()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "swap";
        var job = h.Job("swap-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(16_000).ToList();
        var publisher = new SamplePublisher(h.Client, "swap-job", 1);
        await publisher.PublishAsync(samples.Take(8000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 8000);
        var v1 = await job.PublishCheckpointAsync();
        var scoring = h.Client.GetGrain<IScoringGrain>(0);
        await PublishingTests.WaitAsync(async () => (await scoring.GetReplicaAsync(model)).Weights?.Checkpoint == v1.Version, "v1 served");
        await publisher.PublishAsync(samples.Skip(8000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 16_000);

        using var stop = new CancellationTokenSource();
        var seen = new List<IReadOnlyList<Prediction>>();
        var loop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var p = await scoring.ScoreAsync(new ScoreRequest { Model = model, Rows = Rows });
                lock (seen) seen.Add(p);
            }
        });
        var v2 = await job.PublishCheckpointAsync();
        await PublishingTests.WaitAsync(async () => (await scoring.GetReplicaAsync(model)).Weights?.Checkpoint == v2.Version, "v2 served");
        await Task.Delay(200);
        await stop.CancelAsync();
        await loop; // a failed score would throw here

        var expected = new Dictionary<long, float[]>
        {
            [v1.Version] = await ExpectedAsync(h, schema, model, v1.Version),
            [v2.Version] = await ExpectedAsync(h, schema, model, v2.Version),
        };
        Assert.NotEqual(expected[v1.Version], expected[v2.Version]);
        Assert.Contains(seen, p => p[0].Weights.Checkpoint == v1.Version);
        Assert.Contains(seen, p => p[0].Weights.Checkpoint == v2.Version);
        foreach (var batch in seen)
        {
            Assert.All(batch, p => Assert.Equal(batch[0].Weights, p.Weights)); // one model per call
            for (var i = 0; i < batch.Count; i++) Assert.Equal(expected[batch[i].Weights.Checkpoint][i], batch[i].Ctr); // and wholly that model
        }
    }

    [Fact]
    public async Task A_fresh_id_is_served_with_its_learned_row_after_the_next_publish_and_an_old_frozen_row_is_not_shipped()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "fresh";
        var job = h.Job("fresh-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, FreshRowBudget = 1000 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6000).ToList();
        var publisher = new SamplePublisher(h.Client, "fresh-job", 1);
        await publisher.PublishAsync(samples, end: false);
        await PublishingTests.WaitTrainedAsync(job, 6000);
        var baseCheckpoint = await job.PublishCheckpointAsync();
        await h.Client.GetGrain<IScoringGrain>(0).GetReplicaAsync(model); // this silo serves the model from here on

        // After the base: an item nobody saw before, and an item the base already has, both trained on.
        var oldItem = samples[0].Ids[1];
        var freshItem = IdHasher.Hash("i-brand-new");
        var rng = new Random(3);
        Sample Make(ulong item, int i) => new()
        {
            Task = TaskKind.Ctr, Time = samples[^1].Time + i, Label = rng.NextDouble() < 0.5 ? 1 : 0,
            Ids = [IdHasher.Hash("u" + rng.Next(100)), item, IdHasher.Hash("c1"), IdHasher.Hash("d1")], Bags = [], Numerics = [2f],
        };
        await publisher.PublishAsync(Enumerable.Range(0, 2000).Select(i => Make(i % 2 == 0 ? freshItem : oldItem, i)), end: false);
        await PublishingTests.WaitTrainedAsync(job, 8000);
        await job.PauseAsync();
        var delta = await job.PublishAsync();
        Assert.True(delta.FreshRows > 0);

        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await PublishingTests.WaitAsync(() => registry.TryGet(model)?.Weights == delta.Weights, "the delta applied");
        var replica = registry.TryGet(model)!;
        float[] Served(ulong id) => replica.Inspect(m => { var r = new float[16]; m.Tables[1].TryGetRow(id, r); return r; });
        async Task<float[]> Trained(ulong id)
        {
            var shard = h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/{Freshet.Model.Cluster.ShardRouter.ShardOf(id, 2)}");
            var r = await shard.PullAsync(new RowPull { Tables = [new TableIds { Index = 1, Ids = BitConverter.GetBytes(id), Occurrences = new byte[4] }] });
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.Rows[0]).ToArray();
        }
        using var atBase = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, atBase, baseCheckpoint.Version, modelName: model);
        var baseOld = new float[16];
        Assert.True(atBase.Tables[1].TryGetRow(oldItem, baseOld));
        Assert.False(atBase.Tables[1].TryGetRow(freshItem, new float[16]));

        Assert.Equal(await Trained(freshItem), Served(freshItem));   // the fresh id rode the delta
        Assert.Equal(baseOld, Served(oldItem));                       // the established one waits for a checkpoint
        Assert.NotEqual(await Trained(oldItem), Served(oldItem));
    }
}
