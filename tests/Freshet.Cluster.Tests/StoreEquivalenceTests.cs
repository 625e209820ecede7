using Freshet.Grains.Training;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Training;
using Freshet.Parameters;

namespace Freshet.Cluster.Tests;

/// <summary>
/// The cluster store (shard and dense grains) against the in-process store: the same steps give the
/// same model, to the last bits (the training step copies its inputs into aligned tensors, so both
/// stores run the same CPU kernels on the same numbers).
/// </summary>
public class StoreEquivalenceTests
{
    [Theory]
    [InlineData("clicks")]
    [InlineData("esmm")] // a step also trains the other task's tower: two dense pushes per step
    public async Task Training_steps_through_shard_and_dense_grains_match_the_in_process_store(string cvrLoss)
    {
        await using var h = await ClusterHarness.StartAsync();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestData.Schema("synthetic.json")))!;
        json["model"] = new System.Text.Json.Nodes.JsonObject { ["hidden"] = new System.Text.Json.Nodes.JsonArray(32, 16), ["cvrLoss"] = cvrLoss };
        // A rate field too: its counts are spread over the shards, its prior is the rate over all of them.
        json["fields"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{ "name": "category_ctr", "kind": "rate", "of": "category", "label": "click" }"""));
        var schema = SchemaLoader.Parse(json.ToJsonString());
        var model = "equivalence-" + cvrLoss;
        const int shards = 3;
        var config = new ShardConfig { Model = model, SchemaJson = schema.Json, Shards = shards };
        for (var s = 0; s < shards; s++) await h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/{s}").ConfigureAsync(config with { Shard = s });
        await h.Grains.GetGrain<IDenseGrain>(model).ConfigureAsync(config);

        using var local = new InProcessParameterStore(schema);
        using var cluster = new ClusterParameterStore(h.Grains, schema, model, "job", "job/0", shards, soleTrainer: true);
        var localStep = new TrainingStep(local, Strategy.All);
        var clusterStep = new TrainingStep(cluster, Strategy.All);
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6000).ToList();
        var localScores = new float[256];
        var clusterScores = new float[256];
        var batches = samples.Chunk(256).Select(b => b.ToList()).ToList();
        foreach (var batch in batches)
        {
            var task = batch[0].Task;
            var one = batch.Where(s => s.Task == task).ToList();
            await localStep.RunAsync(one, task, true, localScores);
            await clusterStep.RunAsync(one, task, true, clusterScores);
            for (var i = 0; i < one.Count; i++) Assert.Equal(localScores[i], clusterScores[i], 1e-6f);
        }

        // Rows: every id the local tables hold is in the shard its hash names, with the same weights.
        var ids = local.Tables[1].Export().Ids; // item table
        var pulled = new float[ids.Length * local.Tables[1].Dim];
        var byShard = ids.Select((id, i) => (id, i)).GroupBy(x => Freshet.Model.Cluster.ShardRouter.ShardOf(x.id, shards));
        foreach (var g in byShard)
        {
            var list = g.ToList();
            var result = await h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/{g.Key}").PullAsync(new RowPull
            {
                Tables = [new TableIds { Index = 1, Ids = System.Runtime.InteropServices.MemoryMarshal.AsBytes(list.Select(x => x.id).ToArray().AsSpan()).ToArray(), Occurrences = new byte[list.Count * 4] }],
            });
            var rows = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result.Rows[0]).ToArray();
            var expected = new float[local.Tables[1].Dim];
            for (var k = 0; k < list.Count; k++)
            {
                Assert.True(local.Tables[1].TryGetRow(list[k].id, expected));
                for (var d = 0; d < expected.Length; d++) Assert.Equal(expected[d], rows[k * expected.Length + d], 1e-6f);
            }
        }
        Assert.Equal(await local.CountRowsAsync(), await cluster.CountRowsAsync());

        // Dense: both towers' weights and batch-norm statistics.
        var dense = await h.Grains.GetGrain<IDenseGrain>(model).PullAsync(-1, -1);
        foreach (var tower in dense)
        {
            var t = local.ComputeModel.TowerOf(tower.Task);
            var expected = TowerCodec.ReadParameters(t);
            var actual = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tower.Parameters).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
            Assert.Equal(TowerCodec.ReadBuffers(t).Length, tower.Buffers.Length);
        }
    }
}
