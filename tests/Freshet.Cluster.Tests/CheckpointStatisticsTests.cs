using System.Text.Json.Nodes;
using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Cluster.Tests;

public class CheckpointStatisticsTests
{
    [Fact]
    public async Task A_checkpoint_of_a_sharded_job_loads_every_shards_rate_rows_and_the_summed_totals()
    {
        // The synthetic schema with a running-rate feature: each shard counts the categories it owns.
        var json = JsonNode.Parse(File.ReadAllText(TestData.Schema("synthetic.json")))!.AsObject();
        json["fields"]!.AsArray().Add(JsonNode.Parse("""{ "name": "category_ctr", "kind": "rate", "of": "category", "label": "click" }"""));
        var schema = SchemaLoader.Parse(json.ToJsonString(), "synthetic + category_ctr");
        await using var h = await ClusterHarness.StartAsync();
        var job = h.Job("stats-job");
        await job.CreateAsync(new JobSpec { Model = "stats", SchemaJson = schema.Json, Shards = 3 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6000).ToList();
        await new SamplePublisher(h.Client, "stats-job", 1).PublishAsync(samples, end: false);
        await PublishingTests.WaitTrainedAsync(job, samples.Count);
        var checkpoint = await job.CheckpointAsync();

        using var model = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, model, checkpoint.Version, modelName: "stats");
        var rate = model.Rates.Single(r => r.Name == "category_ctr");
        var ctr = samples.Where(s => s.Task == TaskKind.Ctr).ToList();
        var categories = ctr.Select(s => s.Ids[2]).Distinct().Count();
        Assert.True(categories > 3);
        Assert.Equal(categories, rate.Count);
        var totals = rate.Export().Weights[^2..];
        Assert.Equal(ctr.Sum(s => s.Label), totals[0]);
        Assert.Equal(ctr.Count, totals[1]);
    }
}
