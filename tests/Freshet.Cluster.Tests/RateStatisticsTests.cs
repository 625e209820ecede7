using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>A rate field's counts are spread over the shards; serving and the trainers see one table, with the totals of all.</summary>
public class RateStatisticsTests
{
    [RealDataFact]
    public async Task On_four_shards_the_replica_holds_the_trainers_rate_table_exactly_with_the_totals_of_every_shard()
    {
        await using var h = await ClusterHarness.StartAsync();
        var schema = SchemaLoader.Load(TestData.Schema("talkingdata.json"));
        const string model = "rates";
        var job = h.Job("rates-job");
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 4 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, TestData.TalkingData).Read(12_000).ToList();
        var publisher = new SamplePublisher(h.Client, "rates-job", 1);
        await publisher.PublishAsync(samples.Take(6_000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 6_000);
        await job.PublishAsync(); // the base checkpoint and delta 1
        await publisher.PublishAsync(samples.Skip(6_000), end: false);
        await PublishingTests.WaitTrainedAsync(job, samples.Count);
        await job.PauseAsync();
        var published = await job.PublishAsync();
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await h.Grains.GetGrain<Freshet.Serving.IScoringGrain>(0).GetReplicaAsync(model);
        await PublishingTests.WaitAsync(() => registry.TryGet(model) is { } r && r.Weights == published.Weights, "the replica applies the last delta");
        var replica = registry.TryGet(model)!;

        // The trainers' side: a checkpoint taken now (still paused) holds every shard's part of the rate.
        var now = await job.CheckpointAsync();
        using var trainers = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, trainers, now.Version, modelName: model);
        var expected = trainers.Rates[0].Export();
        var actual = replica.Inspect(m => m.Rates[0].Export());
        Assert.Equal(expected.Ids, actual.Ids);
        Assert.Equal(expected.Weights, actual.Weights);
        Assert.Equal(expected.LastSeen, actual.LastSeen);
        // The totals are those of all the samples counted (every TalkingData sample is a click with a conversion label).
        var trained = (await job.GetStatusAsync()).Trainers.Sum(t => t.SamplesTrained);
        Assert.Equal(trained, (long)replica.Inspect(m => m.Rates[0].Totals.Samples));
        Assert.Equal(samples.Count(s => s.Label > 0.5f), (long)replica.Inspect(m => m.Rates[0].Totals.Positives));
    }
}
