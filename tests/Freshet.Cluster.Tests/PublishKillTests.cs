using System.Collections.Concurrent;
using System.Security.Cryptography;
using Freshet.Client;
using Freshet.Grains.Serving;
using Freshet.Grains.Weights;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Parameters;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Freshet.Cluster.Tests;

/// <summary>Drill (issue 15 §2): the silo running a job's orchestrator and trainer dies while deltas are being published back to back.</summary>
public class PublishKillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_training_silo_killed_mid_publish_never_gives_one_delta_number_two_contents_and_publishing_goes_on_in_order()
    {
        await using var h = await ClusterHarness.StartAsync(silos: 2, durableState: true);
        var model = "pk" + Guid.NewGuid().ToString("N")[..8];
        var jobName = "job-" + model;
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var job = h.Job(jobName);
        await job.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, PersistInterval = TimeSpan.FromMilliseconds(500) });
        await job.StartAsync();
        var survivor = h.Cluster.Silos[0];
        var doomed = h.Cluster.Silos[1];
        // The orchestrator (which publishes) and the trainer on the silo that dies; shards and dense tier on the other.
        await FailoverTests.MoveAsync(h, h.Grains.GetGrain<ITrainingOrchestratorGrain>(jobName), doomed.SiloAddress);
        await FailoverTests.MoveAsync(h, h.Grains.GetGrain<ITrainerGrain>($"{jobName}/0"), doomed.SiloAddress);
        foreach (var grain in new IGrain[] { h.Grains.GetGrain<IDenseGrain>(model), h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/0"), h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/1") })
        {
            await FailoverTests.MoveAsync(h, grain, survivor.SiloAddress);
        }

        // Every delta message on the weights stream, by number and chunk: what serving could ever be sent.
        var seen = new ConcurrentDictionary<(WeightsVersion, int), ConcurrentBag<string>>();
        var stream = h.Streams.GetStream<WeightMessage>(StreamId.Create(WeightsChannel.Namespace, model));
        await stream.SubscribeAsync((m, _) =>
        {
            if (m.Kind == WeightMessageKind.Delta) seen.GetOrAdd((m.Weights, m.Chunk), _ => []).Add(Convert.ToHexString(SHA256.HashData(m.Payload)));
            return Task.CompletedTask;
        });

        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(30_000).ToList();
        await new SamplePublisher(h.Client, jobName, 1).PublishAsync(samples.Take(6_000), end: false);
        await PublishingTests.WaitTrainedAsync(job, 6_000);
        var first = await job.PublishAsync(); // the base checkpoint and delta 1
        // A replica on the surviving silo (a scoring call from inside it is served there).
        await survivor.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IScoringGrain>(0).ScoreAsync(new ScoreRequest { Model = model, Rows = [ScoreRow.Of(("user", "u1"), ("item", "i1"))] });
        var registry = survivor.ServiceProvider.GetRequiredService<ServingRegistry>();
        await PublishingTests.WaitAsync(() => registry.TryGet(model)?.Weights >= first.Weights, $"the surviving silo's replica holds {first.Weights}");

        // Deltas back to back while samples keep coming; the silo dies in the middle of that. Both go through the
        // surviving silo's own client: the test client may route a call through the dead silo's gateway until it
        // notices, and such a call waits out the response timeout.
        var inside = survivor.ServiceProvider.GetRequiredService<IClusterClient>();
        var publisherJob = new FreshetClient(inside).Job(jobName);
        var published = new ConcurrentQueue<WeightsVersion>();
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var feeding = new SamplePublisher(inside, jobName, 1).PublishAsync(samples.Skip(6_000), end: false, cancellationToken: stop.Token);
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    published.Enqueue((await publisherJob.PublishAsync()).Weights);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Interlocked.Increment(ref failures); // the orchestrator's silo is gone, or its activation is moving
                    await Task.Delay(50);
                }
            }
        });
        await PublishingTests.WaitAsync(() => published.Count >= 5, "five deltas published before the kill");
        var beforeKill = published.Count;
        await h.Cluster.KillSiloAsync(doomed);
        await PublishingTests.WaitAsync(() => published.Count >= beforeKill + 5, "five deltas published after the kill");
        await stop.CancelAsync();
        await publishing;
        await feeding.ContinueWith(_ => { }, TaskScheduler.Default);

        var numbers = published.ToList();
        output.WriteLine($"published {first.Weights} then {string.Join(" ", numbers)}; {failures} publish calls failed around the kill");
        // In order: every delta the job answered for has a higher number than the one before, on the same base.
        Assert.All(numbers, v => Assert.Equal(first.Weights.Checkpoint, v.Checkpoint));
        for (var i = 1; i < numbers.Count; i++) Assert.True(numbers[i].Delta > numbers[i - 1].Delta, $"{numbers[i]} after {numbers[i - 1]}");
        // Never one number with two contents on the stream.
        foreach (var ((version, chunk), digests) in seen) Assert.True(digests.Distinct().Count() == 1, $"delta {version} chunk {chunk} went out with {digests.Distinct().Count()} contents");
        // Serving on the surviving silo follows to the last delta, refusing none.
        var last = numbers[^1];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(registry.TryGet(model)?.Weights >= last))
        {
            var r = registry.TryGet(model);
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"serving did not apply {last}: it holds {r?.Weights}, applied {r?.Applied}, gaps {r?.Gaps}, duplicates {r?.Duplicates}; " +
                    $"the stream carried deltas up to {(seen.IsEmpty ? "-" : seen.Keys.Max(k => k.Item1).ToString())}");
            }
            await Task.Delay(20);
        }
        Assert.Equal(0, registry.TryGet(model)!.Refused);
    }
}
