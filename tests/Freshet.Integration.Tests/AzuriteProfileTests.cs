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
        JobStatus status;
        do
        {
            status = await job.GetStatusAsync();
            await Task.Delay(100, timeout.Token);
        }
        while (status.State is not (JobState.Completed or JobState.Failed));
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(6000, status.Trainers[0].SamplesTrained);

        var checkpoint = await job.CheckpointAsync();
        var store = new Freshet.Grains.Checkpoints.AzureBlobCheckpointStore(new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "checkpoints"));
        Assert.Contains(checkpoint.Version, await store.ListVersionsAsync("azmodel"));

        // Grain state lives in blobs: after the shard is deactivated it comes back with its rows.
        var shard = cluster.GetGrain<IEmbeddingShardGrain>("azmodel/0");
        var before = await shard.GetStatusAsync();
        await cluster.GetGrain<IManagementGrain>(0).DeactivateGrain(shard.GetGrainId(), timeout.Token);
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
}
