using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Cluster.Tests;

public class RestartTests
{
    [Fact]
    public async Task A_job_survives_a_silo_restart_and_trains_on()
    {
        await using var h = await ClusterHarness.StartAsync(silos: 1, durableState: true);
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var job = h.Job("restart-job");
        await job.CreateAsync(new JobSpec { Model = "restart", SchemaJson = schema.Json, Shards = 2, PersistInterval = TimeSpan.FromMilliseconds(200) });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(8000).ToList();
        await new SamplePublisher(h.Client, "restart-job", 1).PublishAsync(samples.Take(4000), end: false);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await job.GetStatusAsync()).Trainers[0].SamplesTrained < 4000)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("first half not trained");
            await Task.Delay(20);
        }
        await job.CheckpointAsync();

        await h.Cluster.RestartSiloAsync(h.Cluster.Silos[0]);
        await h.Cluster.InitializeClientAsync();

        var status = await h.Job("restart-job").GetStatusAsync();
        Assert.Equal(JobState.Running, status.State);
        Assert.Equal("restart", status.Spec!.Model);
        Assert.NotNull(status.LastCheckpoint);
        // The trainer comes back on its streams (its state says it was running) and finishes the job.
        await new SamplePublisher(h.Client, "restart-job", 1).PublishAsync(samples.Skip(4000));
        var done = await ClusterTrainingTests.WaitCompletedAsync(h.Job("restart-job"), 180);
        Assert.Equal(JobState.Completed, done.State);
        Assert.True(done.Trainers[0].Steps > 0);
    }
}
