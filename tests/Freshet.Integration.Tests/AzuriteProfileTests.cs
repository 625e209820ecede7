using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Parameters;
using Freshet.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Integration.Tests;

/// <summary>The azurite profile end to end: Azure Table membership, Azure Queue sample streams, Azure Blob grain state and checkpoints.</summary>
[Collection(AzuriteCollection.Name)]
public class AzuriteProfileTests(Azurite azurite)
{
    private IHost Silo(string clusterId)
    {
        var b = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.Profile = "azurite";
            o.Azurite.StorageConnectionString = azurite.ConnectionString;
            o.Silo.ClusterId = clusterId;
            o.Silo.SiloPort = TestPorts.Free();
            o.Silo.GatewayPort = TestPorts.Free();
        });
        b.Logging.SetMinimumLevel(LogLevel.Warning);
        return b.Build();
    }

    private IHost Client(string clusterId)
    {
        var b = Host.CreateApplicationBuilder();
        b.AddFreshetClient(o =>
        {
            o.Profile = "azurite";
            o.StorageConnectionString = azurite.ConnectionString;
            o.ClusterId = clusterId;
        });
        return Quiet(b).Build();
    }

    private static HostApplicationBuilder Quiet(HostApplicationBuilder b)
    {
        b.Logging.SetMinimumLevel(LogLevel.Warning);
        return b;
    }

    /// <summary>The job's status once it has completed or failed (the token bounds the wait).</summary>
    private static async Task<JobStatus> FinishedAsync(ITrainingOrchestratorGrain job, CancellationToken ct)
    {
        while (true)
        {
            var status = await job.GetStatusAsync();
            if (status.State is JobState.Completed or JobState.Failed) return status;
            await Task.Delay(100, ct);
        }
    }

    [AzuriteFact]
    public async Task A_job_trains_through_queue_streams_with_grain_state_and_checkpoints_in_blobs()
    {
        var clusterId = "it-" + Guid.NewGuid().ToString("N")[..8];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var silo = Silo(clusterId);
        await silo.StartAsync(timeout.Token);
        using var client = Client(clusterId);
        await client.StartAsync(timeout.Token);
        var cluster = client.Services.GetRequiredService<IClusterClient>();
        Assert.Single(await client.Services.GetRequiredService<FreshetClient>().GetSilosAsync());

        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var job = new Freshet.Client.FreshetClient(cluster).Job("azurite-job");
        await job.CreateAsync(new JobSpec { Model = "azmodel", SchemaJson = schema.Json, Shards = 2, PersistInterval = TimeSpan.FromSeconds(1) });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6000).ToList();
        Assert.Equal(6000, await new SamplePublisher(cluster, "azurite-job", 1).PublishAsync(samples, cancellationToken: timeout.Token));
        var status = await FinishedAsync(job, timeout.Token);
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(6000, status.Trainers[0].SamplesTrained);

        var checkpoint = await job.CheckpointAsync();
        var store = new Freshet.Grains.Checkpoints.AzureBlobCheckpointStore(new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "checkpoints"));
        Assert.Contains(checkpoint.Version, await store.ListVersionsAsync("azmodel"));

        // Grain state lives in blobs: after the shard is deactivated it comes back with its rows.
        var shard = cluster.GetGrain<IEmbeddingShardGrain>("azmodel/0");
        var before = await shard.GetStatusAsync();
        // Orleans' management grain answers silos only: the silo's own code deactivates the shard.
        await silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).DeactivateGrain(shard.GetGrainId(), timeout.Token);
        await Task.Delay(500, timeout.Token);
        var stateContainer = new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "grainstate");
        var blobs = new List<string>();
        await foreach (var b in stateContainer.GetBlobsAsync()) blobs.Add(b.Name);
        Assert.Contains(blobs, n => n.Contains("shard", StringComparison.OrdinalIgnoreCase));
        var after = await shard.GetStatusAsync();
        Assert.True(after.ActivatedUtc > before.ActivatedUtc, "the shard was deactivated and came back");
        Assert.Equal(before.Rows, after.Rows);
        Assert.Equal(checkpoint.Version, after.LoadedCheckpoint);

        await client.StopAsync(timeout.Token);
        await silo.StopAsync(timeout.Token);
    }

    [AzuriteFact]
    public async Task A_restores_hub_rewind_restarts_the_providers_receivers_on_every_silo_and_streams_go_on()
    {
        // No Event Hubs here: the rewinder drives the Azure Queue stream provider, a persistent stream provider as the
        // hubs' are, through the same control commands. The rewind rows are the ones the hubs' receivers read.
        var clusterId = "it-" + Guid.NewGuid().ToString("N")[..8];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var silo = Silo(clusterId);
        await silo.StartAsync(timeout.Token);
        using var client = Client(clusterId);
        await client.StartAsync(timeout.Token);
        var cluster = client.Services.GetRequiredService<IClusterClient>();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var job = new Freshet.Client.FreshetClient(cluster).Job("rewind-job");
        await job.CreateAsync(new JobSpec { Model = "rwmodel", SchemaJson = schema.Json, Shards = 1 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(3000).ToList();
        await new SamplePublisher(cluster, "rewind-job", 1).PublishAsync(samples.Take(2000), end: false, cancellationToken: timeout.Token);
        while ((await job.GetStatusAsync()).Trainers[0].SamplesTrained < 2000) await Task.Delay(100, timeout.Token);

        // Orleans' management grain (stream providers' control commands) answers silos only: the silo's own code drives it.
        var inside = silo.Services.GetRequiredService<IGrainFactory>();
        var management = inside.GetGrain<IManagementGrain>(0);
        async Task<int> RunningAgentsAsync() => (await management.SendControlCommandToProvider<Orleans.Providers.Streams.Common.PersistentStreamProvider>(
            FreshetNames.StreamProvider, (int)Orleans.Providers.Streams.Common.PersistentStreamProviderCommand.GetNumberRunningAgents)).Sum(r => (int)r!);
        var agents = await RunningAgentsAsync();
        Assert.True(agents > 0, "the queue provider runs pulling agents");
        var store = new Freshet.Grains.Streaming.HubCheckpoints(new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString).GetTableClient("hubs" + Guid.NewGuid().ToString("N")[..8]),
            clusterId, TimeSpan.FromSeconds(10), Microsoft.Extensions.Logging.Abstractions.NullLogger<Freshet.Grains.Streaming.HubCheckpoints>.Instance);
        var rewinder = new Freshet.Grains.Streaming.SampleHubRewinder(store, new Dictionary<string, string> { ["ctr-samples"] = FreshetNames.StreamProvider }, inside,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Freshet.Grains.Streaming.SampleHubRewinder>.Instance);
        var done = await rewinder.RewindAsync(new Dictionary<string, string> { ["ctr-samples/0"] = "4096", ["ctr-samples/1"] = "8192", ["other-hub/0"] = "1" }, timeout.Token);

        Assert.Equal([$"{FreshetNames.StreamProvider} partition 0: from offset 4096", $"{FreshetNames.StreamProvider} partition 1: from offset 8192", "other-hub/0: not a samples hub of this cluster; replay it from offset 1 by hand"], done.Order(StringComparer.Ordinal));
        Assert.Equal((null, "4096"), await store.ReadAsync(FreshetNames.StreamProvider, "0"));
        Assert.Equal(agents, await RunningAgentsAsync()); // stopped and started again
        // The streams go on after the restart: the rest of the samples train and the job completes.
        await new SamplePublisher(cluster, "rewind-job", 1).PublishAsync(samples.Skip(2000), cancellationToken: timeout.Token);
        var status = await FinishedAsync(job, timeout.Token);
        Assert.Equal(3000, status.Trainers[0].SamplesTrained);

        await client.StopAsync(timeout.Token);
        await silo.StopAsync(timeout.Token);
    }
}
