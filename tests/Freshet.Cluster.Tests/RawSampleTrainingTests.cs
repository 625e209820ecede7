using Freshet.Model.Data;
using Freshet.Jobs;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Samples;

namespace Freshet.Cluster.Tests;

public class RawSampleTrainingTests
{
    [Fact]
    public async Task A_trainer_featurizes_raw_rows_with_its_schema_trains_on_them_and_skips_rows_the_schema_refuses()
    {
        await using var h = await ClusterHarness.StartAsync();
        var model = "m" + Guid.NewGuid().ToString("N")[..10];
        var schema = SchemaLoader.Parse(File.ReadAllText(TestData.Schema("synthetic.json")));
        var job = h.Job("job-" + model);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, Trainers = 1 });
        await job.StartAsync();

        // Items 0..19 are clicked 80% of the time, items 20..39 10%: learnable from the item field alone.
        var random = new Random(11);
        var start = new DateTime(2026, 11, 28, 10, 0, 0, DateTimeKind.Utc).Ticks;
        var rows = Enumerable.Range(0, 6000).Select(i =>
        {
            var item = random.Next(40);
            return new RawSample
            {
                Time = start + i * TimeSpan.TicksPerSecond,
                Label = random.NextDouble() < (item < 20 ? 0.8 : 0.1) ? 1 : 0,
                Fields = new() { ["user"] = "u" + random.Next(500), ["item"] = "i" + item, ["price"] = "12.5" },
                Index = i % 100,
            };
        }).ToList();
        rows.Insert(10, new RawSample { Time = start, Label = 1, Fields = new() { ["colour"] = "red" }, Index = 10 });
        rows.Insert(20, new RawSample { Time = start, Label = 1, Fields = new() { ["price"] = "cheap" }, Index = 20 });

        var provider = h.Streams;
        var ctr = provider.GetStream<SampleBatch>(SampleStreams.Id("job-" + model, 0, TaskKind.Ctr));
        var cvr = provider.GetStream<SampleBatch>(SampleStreams.Id("job-" + model, 0, TaskKind.Cvr));
        foreach (var chunk in rows.Chunk(100)) await ctr.OnNextAsync(new SampleBatch { Rows = chunk, Count = chunk.Length, Origin = "test" });
        await ctr.OnNextAsync(new SampleBatch { EndOfStream = true });
        await cvr.OnNextAsync(new SampleBatch { EndOfStream = true });

        var status = await ClusterTrainingTests.WaitCompletedAsync(job);
        Assert.Equal(JobState.Completed, status.State);
        var trainer = Assert.Single(status.Trainers);
        Assert.Equal(2, trainer.SamplesRejected);
        Assert.Equal(6000, trainer.SamplesReceived);
        var report = TrainingReportJson.Deserialize(await h.Grains.GetGrain<ITrainerGrain>($"job-{model}/0").GetReportJsonAsync());
        Assert.Equal(6000, report.Samples);
        Assert.True(report.Ctr.Auc > 0.7, $"CTR AUC {report.Ctr.Auc} on raw rows");
    }
}
