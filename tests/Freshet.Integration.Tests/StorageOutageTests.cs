using System.Text.RegularExpressions;
using Freshet.Client;
using Freshet.Grains.Checkpoints;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Parameters;
using Freshet.Samples;
using Freshet.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Freshet.Integration.Tests;

/// <summary>
/// Drill: the storage account goes away in the middle of a full checkpoint and comes back (issue 15 §2). A silo on the
/// azurite profile reaches Azurite's blob, queue and table ports through <see cref="FaultProxy"/>s; the blob proxy cuts
/// all three off at the first data file the checkpoint uploads (after its version is reserved).
/// </summary>
[Collection(AzuriteCollection.Name)]
public class StorageOutageTests(Azurite azurite, ITestOutputHelper output)
{
    [AzuriteFact]
    public async Task A_checkpoint_cut_off_by_a_storage_outage_fails_clearly_and_invisibly_while_training_and_serving_go_on()
    {
        await using var blob = new FaultProxy(azurite.BlobPort);
        await using var queue = new FaultProxy(azurite.QueuePort);
        await using var table = new FaultProxy(azurite.TablePort);
        var proxied = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Azurite.AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob.Port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue.Port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table.Port}/devstoreaccount1;";
        var clusterId = "outage-" + Guid.NewGuid().ToString("N")[..8];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Say(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");
        var sb = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.Profile = "azurite";
            o.Azurite.StorageConnectionString = proxied;
            o.Silo.ClusterId = clusterId;
            o.Silo.SiloPort = TestPorts.Free();
            o.Silo.GatewayPort = TestPorts.Free();
        });
        sb.Logging.SetMinimumLevel(LogLevel.Critical); // the outage makes every storage user log errors; the test reads the outcome
        using var silo = sb.Build();
        await silo.StartAsync(timeout.Token);
        var cb = Host.CreateApplicationBuilder();
        cb.AddFreshetClient(o =>
        {
            o.Profile = "azurite";
            o.StorageConnectionString = proxied;
            o.ClusterId = clusterId;
        });
        cb.Logging.SetMinimumLevel(LogLevel.Critical);
        using var client = cb.Build();
        await client.StartAsync(timeout.Token);
        var cluster = client.Services.GetRequiredService<IClusterClient>();
        var freshet = client.Services.GetRequiredService<FreshetClient>();

        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var model = "outage" + Guid.NewGuid().ToString("N")[..6];
        var jobName = "job-" + model;
        var job = freshet.Job(jobName);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, PersistInterval = TimeSpan.FromSeconds(1) });
        await job.StartAsync();
        var all = SampleReader.Open(schema, SampleReader.SyntheticData).Read(10_000).ToList();
        var publisher = new SamplePublisher(cluster, jobName, 1);
        await publisher.PublishAsync(all.Take(6000), end: false, cancellationToken: timeout.Token);
        await WaitAsync(async () => (await job.GetStatusAsync()).Trainers.Sum(t => t.SamplesTrained) == 6000, "6000 samples trained", timeout.Token);

        Say("6000 samples trained");
        // Version 1, announced: the serving replica loads it.
        var first = (await job.PublishCheckpointAsync()).Version;
        await WaitAsync(async () => (await freshet.GetStatusAsync(model)).Replicas.Any(r => r.Weights?.Checkpoint == first), $"serving loads checkpoint {first}", timeout.Token);
        var held = all.Skip(9000).Where(s => s.Task == TaskKind.Ctr).Take(200).ToArray();
        var heldBatch = new SampleBatch { Payload = SampleCodec.Encode(held), Count = held.Length };
        var servedBefore = await freshet.ScoreSamplesAsync(model, heldBatch);
        var rowsBefore = (await Task.WhenAll(Enumerable.Range(0, 2).Select(i => cluster.GetGrain<IEmbeddingShardGrain>($"{model}/{i}").GetStatusAsync()))).Sum(s => s.Rows.Values.Sum());

        // The outage: at the first data file of the next version (its number reserved by then), every port goes away.
        var next = first + 1;
        blob.CutWhen(new Regex($"PUT /devstoreaccount1/checkpoints/{model}/{next:D10}/(?!\\.started)[^ ?]+"), _ =>
        {
            queue.Down();
            table.Down();
        });
        var failed = await Assert.ThrowsAsync<CheckpointFailedException>(() => job.CheckpointAsync());
        Say($"cut at: {blob.CutAt}");
        Say($"error: {failed.Message}");
        Assert.True(blob.IsDown && queue.IsDown && table.IsDown, "the outage happened during the checkpoint");
        Assert.Contains($"checkpoint version {next} of model '{model}' was not committed", failed.Message);
        Assert.Contains("No manifest was written", failed.Message);
        Assert.Contains($"version {first} stays the latest", failed.Message);
        Assert.Contains("training goes on", failed.Message);

        // During the outage: the job is not failed, it says why the checkpoint failed, and serving answers from version 1.
        var during = await job.GetStatusAsync();
        Assert.NotEqual(JobState.Failed, during.State);
        Assert.Equal(first, during.LastCheckpoint);
        Assert.Equal(failed.Message, during.LastCheckpointError);
        var servedDuring = await freshet.ScoreSamplesAsync(model, heldBatch);
        Assert.All(servedDuring, p => Assert.Equal(first, p.Weights.Checkpoint));
        Assert.Equal(servedBefore.Select(p => p.Ctr), servedDuring.Select(p => p.Ctr));

        // A publish meanwhile cannot even number its delta: nothing is taken from the shards, and it says so.
        var unnumbered = await Assert.ThrowsAsync<PublishFailedException>(() => job.PublishAsync());
        Say($"publish during the outage: {unnumbered.Message}");
        Assert.Contains("Nothing was taken from the shards", unnumbered.Message);

        // Storage comes back: the shards lost nothing, training takes the rest of the stream, the next checkpoint commits.
        blob.Up();
        queue.Up();
        table.Up();
        Say("storage back");
        var rowsAfterOutage = (await Task.WhenAll(Enumerable.Range(0, 2).Select(i => cluster.GetGrain<IEmbeddingShardGrain>($"{model}/{i}").GetStatusAsync()))).Sum(s => s.Rows.Values.Sum());
        Assert.Equal(rowsBefore, rowsAfterOutage);
        await publisher.PublishAsync(all.Skip(6000), cancellationToken: timeout.Token);
        await WaitAsync(async () => (await job.GetStatusAsync()).State == JobState.Completed, "the job completes after the outage", timeout.Token);
        Assert.Equal(10_000, (await job.GetStatusAsync()).Trainers.Sum(t => t.SamplesTrained));
        Say("10000 samples trained");
        // Blob storage fails again as a delta is retained, after its rows were taken from the shards: the delta is kept and
        // goes out first next time, with the same number, and serving applies it.
        blob.CutWhen(new Regex($"PUT /devstoreaccount1/checkpoints/{model}/{first:D10}/delta-"));
        var kept = await Assert.ThrowsAsync<PublishFailedException>(() => job.PublishAsync());
        Say($"publish cut while retaining: {kept.Message}");
        Assert.Contains($"delta v{first}+1 of model '{model}' was not published: retaining it beside its base failed", kept.Message);
        Assert.Contains("It is kept and goes out first, with the same number", kept.Message);
        blob.Up();
        var delivered = await job.PublishAsync();
        Assert.Equal(new Freshet.Model.Serving.WeightsVersion(first, 1), delivered.Weights);
        Assert.True(delivered.ChangingRows + delivered.FreshRows > 0, "the kept delta carries the rows trained after the outage");
        await WaitAsync(async () => (await freshet.GetStatusAsync(model)).Replicas.Any(r => r.Weights == delivered.Weights), $"serving applies {delivered.Weights}", timeout.Token);
        Assert.Equal(new Freshet.Model.Serving.WeightsVersion(first, 2), (await job.PublishAsync()).Weights);

        Say($"kept delta applied on serving");
        var after = await job.CheckpointAsync();
        Say($"checkpoint {after.Version} committed");
        Assert.True(after.Version > next, $"the next checkpoint takes a new number: {after.Version} after the failed {next}");
        var store = new AzureBlobCheckpointStore(new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "checkpoints"));
        var versions = await store.ListVersionsAsync(model);
        Assert.Contains(first, versions);
        Assert.Contains(after.Version, versions);
        Assert.DoesNotContain(next, versions); // the cut one never became visible
        // And what it wrote before the cut (its reservation, the files of the shards that got through) is gone: storage refused
        // its removal during the outage, so it went after the next checkpoint that committed.
        var leftovers = new List<string>();
        await foreach (var b in new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "checkpoints").GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{model}/{next:D10}/", CancellationToken.None)) leftovers.Add(b.Name);
        Assert.Empty(leftovers);
        Assert.Null((await job.GetStatusAsync()).LastCheckpointError);

        await client.StopAsync(timeout.Token);
        await silo.StopAsync(timeout.Token);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            if (cancellationToken.IsCancellationRequested) throw new TimeoutException($"waited too long for: {what}");
            await Task.Delay(100, CancellationToken.None);
        }
    }
}
