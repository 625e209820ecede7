using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Model.Towers;
using Freshet.Parameters;

namespace Freshet.Cluster.Tests;

public class ClusterTrainingTests
{
    private static string SchemaJson(string name = "synthetic.json") => File.ReadAllText(TestData.Schema(name));

    private static string UniqueModel() => "m" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_job_trains_on_the_sample_streams_and_reports_like_the_in_process_trainer()
    {
        await using var h = await ClusterHarness.StartAsync();
        var model = UniqueModel();
        var schema = SchemaLoader.Parse(SchemaJson());
        var job = h.Job("job-" + model);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 3, Trainers = 1 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(20_000).ToList();
        var published = await new SamplePublisher(h.Client, "job-" + model, 1).PublishAsync(samples);
        Assert.Equal(20_000, published);
        var status = await WaitCompletedAsync(job);
        Assert.Equal(JobState.Completed, status.State);
        var report = TrainingReportJson.Deserialize(await h.Grains.GetGrain<ITrainerGrain>($"job-{model}/0").GetReportJsonAsync());
        Assert.Equal(20_000, report.Samples);
        Assert.True(report.Ctr.Auc > 0.6, $"cluster CTR AUC {report.Ctr.Auc}");
        Assert.InRange(status.Trainers[0].GrainCallsPerStep, 2, 8);
    }

    [Fact]
    public async Task Each_publisher_is_counted_apart_so_its_flow_control_never_waits_on_another_producers_samples()
    {
        // A publisher's flow control once compared what it published with everything the trainer trained: a feedback loop
        // or a second publisher feeding the same trainer made it think its own samples were trained, so it ran ahead
        // without bound. Trainers now count each publisher's samples apart.
        await using var h = await ClusterHarness.StartAsync();
        var model = UniqueModel();
        var schema = SchemaLoader.Parse(SchemaJson());
        var job = h.Job("job-" + model);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, Trainers = 1 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(7_000).ToList();
        var (a, b) = (new SamplePublisher(h.Client, "job-" + model, 1), new SamplePublisher(h.Client, "job-" + model, 1));
        Assert.NotEqual(a.Producer, b.Producer);
        await Task.WhenAll(a.PublishAsync(samples[..3_000], end: false), b.PublishAsync(samples[3_000..], end: false));
        var trainer = h.Grains.GetGrain<ITrainerGrain>($"job-{model}/0");
        await PublishingTests.WaitAsync(async () => (await trainer.GetStatusAsync()).SamplesReceived >= 7_000, "the trainer takes both publishers' samples");
        Assert.Equal(new ProducerProgress(3_000, null), await trainer.GetDeliveredAsync(a.Producer));
        Assert.Equal(new ProducerProgress(4_000, null), await trainer.GetDeliveredAsync(b.Producer));
        Assert.Equal(0, (await trainer.GetDeliveredAsync(Guid.NewGuid())).Delivered);
    }

    [Fact]
    public async Task A_job_stopped_twice_starts_again_on_one_subscription_per_stream()
    {
        // A stop that failed part way (a stream's pub-sub grain on a silo that just died) is tried again; the second
        // try once met a handle the first had used up. Stopping twice must work, and starting again must not leave two
        // subscriptions on a stream (each sample would then be trained twice).
        await using var h = await ClusterHarness.StartAsync();
        var model = UniqueModel();
        var schema = SchemaLoader.Parse(SchemaJson());
        var job = h.Job("job-" + model);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1, Trainers = 1 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(3_000).ToList();
        await new SamplePublisher(h.Client, "job-" + model, 1).PublishAsync(samples.Take(2_000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 2_000);
        await job.StopAsync();
        var trainer = h.Grains.GetGrain<ITrainerGrain>($"job-{model}/0");
        await trainer.StopAsync();
        await job.StartAsync();
        await new SamplePublisher(h.Client, "job-" + model, 1).PublishAsync(samples.Skip(2_000));
        var done = await WaitCompletedAsync(job);
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(1_000, done.Trainers[0].SamplesReceived);
        Assert.Equal(1_000, done.Trainers[0].SamplesTrained);
    }

    [Fact]
    public async Task With_two_trainers_every_batch_moves_the_dense_tiers_batch_norm_statistics()
    {
        await using var h = await ClusterHarness.StartAsync();
        var model = UniqueModel();
        var schema = SchemaLoader.Parse(SchemaJson());
        var job = h.Job("job-" + model);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, Trainers = 2 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(30_000).ToList();
        await new SamplePublisher(h.Client, "job-" + model, 2).PublishAsync(samples);
        Assert.Equal(JobState.Completed, (await WaitCompletedAsync(job)).State);

        var dense = h.Grains.GetGrain<IDenseGrain>(model);
        var status = await dense.GetStatusAsync();
        Assert.Equal(2, status.Steps.Count); // both trainers pushed
        var layout = FeatureLayout.From(schema);
        using var copy = new EsmmModel(layout, schema.Model);
        foreach (var tower in await dense.PullAsync(-1, -1))
        {
            var t = copy.TowerOf(tower.Task);
            TowerCodec.WriteBuffers(t, tower.Buffers);
            // Each push carries one training forward pass of its tower; with the change added (not the last push's
            // buffers kept) the batch counter of every batch-norm layer counts every push of both trainers.
            var counters = t.named_buffers().Where(b => b.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Select(b => b.buffer.item<long>()).ToList();
            Assert.NotEmpty(counters);
            Assert.All(counters, c => Assert.Equal(tower.Version, c));
        }
    }

    internal static async Task<JobStatus> WaitCompletedAsync(ITrainingOrchestratorGrain job, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var s = await job.GetStatusAsync();
            if (s.State is JobState.Completed or JobState.Failed) return s;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {s.Job} still {s.State} after {seconds} s: {string.Join(", ", s.Trainers.Select(t => $"{t.Trainer} {t.SamplesTrained}/{t.SamplesReceived}"))}");
            await Task.Delay(50);
        }
    }
}
