using Freshet.Model.Training;
using Freshet.Jobs;

namespace Freshet.Cluster.Tests;

public class BadInputTests
{
    private static readonly string Schema = File.ReadAllText(TestData.Schema("synthetic.json"));

    [Fact]
    public async Task Bad_jobs_get_clear_errors_through_the_grain_call_and_the_silo_keeps_running()
    {
        await using var h = await ClusterHarness.StartAsync();
        var job = h.Job("bad");
        var schema = await Assert.ThrowsAsync<JobRequestException>(() => job.CreateAsync(new JobSpec { SchemaJson = Schema.Replace("\"frozen\"", "\"icy\"", StringComparison.Ordinal) }));
        Assert.Contains("'icy' is not accepted here; use one of: frozen, changing, dense", schema.Message);
        var strategy = await Assert.ThrowsAsync<JobRequestException>(() => job.CreateAsync(new JobSpec { SchemaJson = Schema, Strategy = (Strategy)42 }));
        Assert.Contains("strategy: 42 is not a strategy; use base, mlp, part or all", strategy.Message);
        var version = await Assert.ThrowsAsync<JobRequestException>(() => job.CreateAsync(new JobSpec { SchemaJson = Schema, RestoreVersion = 42 }));
        Assert.Contains("checkpoint version 42 of model 'synthetic' does not exist", version.Message);
        var notCreated = await Assert.ThrowsAsync<JobRequestException>(() => h.Job("never").StartAsync());
        Assert.Contains("job 'never' does not exist; create it first", notCreated.Message);

        var ok = await job.CreateAsync(new JobSpec { SchemaJson = Schema, Model = "fine" });
        Assert.Equal(JobState.Created, ok.State);
    }
}
