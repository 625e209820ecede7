using Freshet.Client;
using Microsoft.Extensions.DependencyInjection;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Metrics;
using Freshet.Model.Training;
using Freshet.Parameters;
using Freshet.Samples;

namespace Freshet.Cluster.Tests;

/// <summary>Stream positions in checkpoints (issue 15 §1): a restored job resumes a replayable stream exactly after what its checkpoint holds.</summary>
public class StreamPositionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_restored_from_a_checkpoint_skips_what_it_holds_of_a_replayed_log_so_every_sample_trains_exactly_once()
    {
        await using var h = await ClusterHarness.StartAsync();
        var model = "pos" + Guid.NewGuid().ToString("N")[..8];
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var log = SampleReader.Open(schema, SampleReader.SyntheticData).Read(20_000).ToList();

        // Job A trains the first 12,000 samples of the log, checkpoints, then trains 3,000 more that no checkpoint holds.
        var a = h.Job("a-" + model);
        await a.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, Trainers = 2 });
        await a.StartAsync();
        await new SamplePublisher(h.Client, "a-" + model, 2) { FirstPosition = 0 }.PublishAsync(log.Take(12_000), end: false);
        await PublishingTests.WaitTrainedAsync(a, 12_000);
        var checkpoint = await a.CheckpointAsync();
        var manifest = (await CheckpointReader.OpenAsync(h.Checkpoints, model, checkpoint.Version)).Manifest;
        Assert.Equal(12_000, manifest.Samples);
        // Per stream, the last position it holds is the last of that stream among the first 12,000.
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < 12_000; i++) expected[$"{SampleStreams.PartitionOf(log[i], 2)}/{log[i].Task.Name()}"] = i;
        Assert.Equal(expected.OrderBy(kv => kv.Key), manifest.Positions!.OrderBy(kv => kv.Key));
        await new SamplePublisher(h.Client, "a-" + model, 2) { FirstPosition = 12_000 }.PublishAsync(log.Skip(12_000).Take(3_000), end: false);
        await PublishingTests.WaitTrainedAsync(a, 15_000);
        await a.StopAsync(); // what A trained after the checkpoint is lost with it

        // Job B restores the checkpoint; the producer replays the whole log from its start.
        var b = h.Job("b-" + model);
        await b.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, Trainers = 2, RestoreVersion = checkpoint.Version });
        await b.StartAsync();
        Assert.Equal(20_000, await new SamplePublisher(h.Client, "b-" + model, 2) { FirstPosition = 0 }.PublishAsync(log, end: false));
        await PublishingTests.WaitTrainedAsync(b, 8_000);
        // Each stream ends at the log's last sample of that stream.
        var last = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < log.Count; i++) last[$"{SampleStreams.PartitionOf(log[i], 2)}/{log[i].Task.Name()}"] = i;
        var reached = (await b.GetStatusAsync()).Trainers.SelectMany((t, p) => t.Positions.Select(kv => KeyValuePair.Create($"{p}/{kv.Key}", kv.Value)));
        Assert.Equal(last.OrderBy(kv => kv.Key), reached.OrderBy(kv => kv.Key));
        // The skip list was for that replay: a later run of the producer numbers from 0 again, and every sample of it trains.
        var later = SampleReader.Open(schema, SampleReader.SyntheticData).Read(22_000).Skip(20_000).ToList();
        await new SamplePublisher(h.Client, "b-" + model, 2) { FirstPosition = 0 }.PublishAsync(later);
        var done = await ClusterTrainingTests.WaitCompletedAsync(b);
        Assert.Equal(JobState.Completed, done.State);

        // Exactly once: B skipped the 12,000 the checkpoint holds and trained the other 8,000, the 3,000 A lost among them.
        Assert.Equal(12_000, done.Trainers.Sum(t => t.SamplesSkipped));
        Assert.Equal(10_000, done.Trainers.Sum(t => t.SamplesTrained));
        Assert.Equal(22_000, manifest.Samples + done.Trainers.Sum(t => t.SamplesTrained));

        // A job that restores nothing skips nothing, even under a name that skipped before.
        var c = h.Job("b-" + model);
        await c.StopAsync();
        await c.CreateAsync(new JobSpec { Model = model + "x", SchemaJson = schema.Json, Shards = 2, Trainers = 2 });
        await c.StartAsync();
        await new SamplePublisher(h.Client, "b-" + model, 2) { FirstPosition = 0 }.PublishAsync(log.Take(2_000));
        var fresh = await ClusterTrainingTests.WaitCompletedAsync(c);
        Assert.Equal(0, fresh.Trainers.Sum(t => t.SamplesSkipped));
        Assert.Equal(2_000, fresh.Trainers.Sum(t => t.SamplesTrained));
    }

    [Fact]
    public async Task Positions_from_several_hub_partitions_on_one_stream_are_kept_apart_so_a_restored_job_resumes_each_partition()
    {
        // An Event Hubs samples hub: producers' events land in hub partitions by their partition key, so one trainer
        // stream gathers events of several hub partitions, numbered by each partition's sequence numbers. Here events
        // of 50 samples alternate between two partitions, as the JSON adapter hands them over (Source, Positions).
        await using var h = await ClusterHarness.StartAsync();
        var model = "hub" + Guid.NewGuid().ToString("N")[..8];
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var log = SampleReader.Open(schema, SampleReader.SyntheticData).Read(12_000).ToList();
        var events = new List<(TaskKind Task, string Source, long[] Positions, List<Sample> Samples, string Offset)>();
        var next = new long[2];
        foreach (var task in new[] { TaskKind.Ctr, TaskKind.Cvr })
        {
            foreach (var chunk in log.Where(x => x.Task == task).Chunk(50))
            {
                var part = events.Count % 2;
                var sequence = next[part]++;
                events.Add((task, $"ctr-samples/{part}", [.. chunk.Select((_, i) => Freshet.Grains.Streaming.JsonSampleDataAdapter.PositionOf(sequence, i))], [.. chunk], (sequence * 4096).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        // Arrival order mixes the tasks, as live traffic does; within a task, each partition's events stay in order.
        events = [.. events.OrderBy(e => e.Samples[0].Time).ThenBy(e => e.Task)];
        async Task SendAsync(string job, IEnumerable<(TaskKind Task, string Source, long[] Positions, List<Sample> Samples, string Offset)> batch)
        {
            var provider = h.Streams;
            foreach (var e in batch)
            {
                await provider.GetStream<SampleBatch>(SampleStreams.Id(job, 0, e.Task)).OnNextAsync(
                    new SampleBatch { Payload = SampleCodec.Encode(e.Samples), Count = e.Samples.Count, Positions = e.Positions, Source = e.Source, SourceOffset = e.Offset });
            }
        }

        var a = h.Job("a-" + model);
        await a.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1, Trainers = 1 });
        await a.StartAsync();
        var held = events.Take(events.Count / 2).ToList();
        await SendAsync("a-" + model, held);
        var heldSamples = held.Sum(e => e.Samples.Count);
        await PublishingTests.WaitTrainedAsync(a, heldSamples);
        // A receiver that moved to another silo reads its partition again from its last commit: the repeats are dropped.
        var repeated = held.Skip(held.Count - 6).ToList();
        await SendAsync("a-" + model, repeated);
        await PublishingTests.WaitAsync(async () => (await a.GetStatusAsync()).Trainers[0].SamplesRepeated == repeated.Sum(e => e.Samples.Count), "the repeated events dropped");
        var checkpoint = await a.CheckpointAsync();
        var manifest = (await CheckpointReader.OpenAsync(h.Checkpoints, model, checkpoint.Version)).Manifest;
        var expected = held.GroupBy(e => $"0/{SampleStreams.PositionKey(e.Task, e.Source)}").ToDictionary(g => g.Key, g => g.Max(e => e.Positions[^1]));
        Assert.Equal(4, expected.Count); // two tasks times two hub partitions
        Assert.Equal(expected.OrderBy(kv => kv.Key), manifest.Positions!.OrderBy(kv => kv.Key));
        Assert.Equal(heldSamples, manifest.Samples);
        // Each key's offset is its last held event's; per hub partition, the earliest of them is where to read again.
        var lastHeld = held.GroupBy(e => $"0/{SampleStreams.PositionKey(e.Task, e.Source)}").ToDictionary(g => g.Key, g => g.Last().Offset);
        Assert.Equal(lastHeld.OrderBy(kv => kv.Key), manifest.Offsets!.OrderBy(kv => kv.Key));
        var resume = manifest.ResumeOffsets();
        Assert.Equal(["ctr-samples/0", "ctr-samples/1"], resume.Keys.Order());
        foreach (var (source, offset) in resume)
        {
            Assert.Equal(lastHeld.Where(kv => kv.Key.EndsWith("@" + source, StringComparison.Ordinal)).Select(kv => long.Parse(kv.Value)).Min(), long.Parse(offset));
        }
        var lost = events.Skip(held.Count).Take(events.Count / 4).ToList();
        await SendAsync("a-" + model, lost);
        await PublishingTests.WaitTrainedAsync(a, heldSamples + lost.Sum(e => e.Samples.Count));
        await a.StopAsync(); // what A trained after the checkpoint is lost with it

        // B restores; each hub partition is read again from the checkpoint's resume offset, on its own: partition 1, then 0.
        var b = h.Job("b-" + model);
        await b.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 1, Trainers = 1, RestoreVersion = checkpoint.Version });
        await b.StartAsync();
        var reread = events.Where(e => CheckpointManifest.CompareOffsets(e.Offset, resume[e.Source]) >= 0).ToList();
        Assert.True(reread.Count < events.Count - held.Count / 2, "the resume offsets skip most of what the checkpoint holds");
        await SendAsync("b-" + model, reread.Where(e => e.Source.EndsWith("/1", StringComparison.Ordinal)));
        await SendAsync("b-" + model, reread.Where(e => e.Source.EndsWith("/0", StringComparison.Ordinal)));
        var provider = h.Streams;
        foreach (var task in new[] { TaskKind.Ctr, TaskKind.Cvr }) await provider.GetStream<SampleBatch>(SampleStreams.Id("b-" + model, 0, task)).OnNextAsync(new SampleBatch { EndOfStream = true });
        var done = await ClusterTrainingTests.WaitCompletedAsync(b);
        Assert.Equal(JobState.Completed, done.State);

        // Exactly once: every sample the checkpoint holds skipped, every other one trained, per partition.
        Assert.Equal(reread.Sum(e => e.Samples.Count) - (log.Count - heldSamples), done.Trainers[0].SamplesSkipped);
        Assert.Equal(log.Count - heldSamples, done.Trainers[0].SamplesTrained);
        Assert.Equal(0, done.Trainers[0].SamplesRepeated);
        output.WriteLine($"{events.Count} events of {log.Count} samples; A held {held.Count} events ({heldSamples} samples) in checkpoint {checkpoint.Version}, "
            + $"dropped {repeated.Sum(e => e.Samples.Count)} repeated; B re-read {reread.Count} events ({reread.Sum(e => e.Samples.Count)} samples), "
            + $"skipped {done.Trainers[0].SamplesSkipped}, trained {done.Trainers[0].SamplesTrained}; resume offsets {string.Join(", ", resume.Select(kv => $"{kv.Key} {kv.Value}"))}");
        var last = events.GroupBy(e => SampleStreams.PositionKey(e.Task, e.Source)).ToDictionary(g => g.Key, g => g.Max(e => e.Positions[^1]));
        Assert.Equal(last.OrderBy(kv => kv.Key), done.Trainers[0].Positions.OrderBy(kv => kv.Key));
    }

    [Fact]
    public async Task Samples_of_an_unnumbered_producer_are_never_skipped_after_a_restore()
    {
        await using var h = await ClusterHarness.StartAsync();
        var model = "pos" + Guid.NewGuid().ToString("N")[..8];
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var log = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6_000).ToList();
        var a = h.Job("a-" + model);
        await a.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2 });
        await a.StartAsync();
        // A live producer: each call starts over, so its samples carry no positions and the checkpoint records none.
        await new SamplePublisher(h.Client, "a-" + model, 1).PublishAsync(log.Take(3_000), end: false);
        await PublishingTests.WaitTrainedAsync(a, 3_000);
        var checkpoint = await a.CheckpointAsync();
        Assert.Null((await CheckpointReader.OpenAsync(h.Checkpoints, model, checkpoint.Version)).Manifest.Positions);
        await a.RestoreAsync(checkpoint.Version, model);
        await new SamplePublisher(h.Client, "a-" + model, 1).PublishAsync(log.Skip(3_000));
        var done = await ClusterTrainingTests.WaitCompletedAsync(a);
        Assert.Equal(0, done.Trainers.Sum(t => t.SamplesSkipped));
        Assert.Equal(6_000, done.Trainers.Sum(t => t.SamplesTrained));
    }

    [Fact]
    public async Task A_training_silo_killed_mid_stream_then_restored_trains_every_sample_once_and_as_well_as_an_uninterrupted_run()
    {
        // Grain state in files, as every deployed profile's storage outlives a silo (in-memory state is spread over the silos and dies in part with one).
        await using var h = await ClusterHarness.StartAsync(silos: 2, durableState: true);
        var model = "kill" + Guid.NewGuid().ToString("N")[..8];
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        // One stream (CTR) and no throttling: the trainer cuts the same batches on every run, so the two models differ by
        // the interruption only, not by how two streams' arrivals interleaved (that alone moves a model's AUC by 0.005).
        var log = SampleReader.Open(schema, SampleReader.SyntheticData).Read(30_000).Where(s => s.Task == TaskKind.Ctr).Take(24_000).ToList();
        var train = log.Take(20_000).ToList();
        var held = log.Skip(20_000).ToList();
        var client = h.Client;
        SamplePublisher Publisher(string job, long first) => new(client, job, 1) { FirstPosition = first, MaxInFlight = 1_000_000 };

        // Job A: its trainer, shards and dense tier on the silo that dies; its orchestrator on the one that lives.
        var a = h.Job("a-" + model);
        await a.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2 });
        await a.StartAsync();
        var survivor = h.Cluster.Silos[0].SiloAddress;
        var doomed = h.Cluster.Silos[1];
        await FailoverTests.MoveAsync(h, h.Grains.GetGrain<ITrainingOrchestratorGrain>("a-" + model), survivor);
        foreach (var grain in new IGrain[]
        {
            h.Grains.GetGrain<ITrainerGrain>($"a-{model}/0"), h.Grains.GetGrain<IDenseGrain>(model),
            h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/0"), h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/1"),
        })
        {
            await FailoverTests.MoveAsync(h, grain, doomed.SiloAddress);
        }
        await Publisher("a-" + model, 0).PublishAsync(train.Take(12_000), end: false);
        await PublishingTests.WaitTrainedAsync(a, 12_000);
        var checkpoint = await a.CheckpointAsync();
        // More samples go out and the training silo dies while they train.
        await Publisher("a-" + model, 12_000).PublishAsync(train.Skip(12_000).Take(4_000), end: false);
        await PublishingTests.WaitAsync(async () => (await a.GetStatusAsync()).Trainers[0].SamplesTrained > 12_000, "training after the checkpoint");
        await h.Cluster.KillSiloAsync(doomed);
        // From here on through the surviving silo's own client: the test client may still route a call through the dead
        // silo's gateway until it notices, and such a call waits out the response timeout.
        client = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>();

        // Job B restores the checkpoint on the surviving silo; the log is replayed from its start.
        var b = new FreshetClient(client).Job("b-" + model);
        await b.CreateAsync(new JobSpec { Model = model, SchemaJson = schema.Json, Shards = 2, RestoreVersion = checkpoint.Version });
        await b.StartAsync();
        await Publisher("b-" + model, 0).PublishAsync(train);
        var done = await ClusterTrainingTests.WaitCompletedAsync(b);
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(12_000, done.Trainers[0].SamplesSkipped);
        Assert.Equal(8_000, done.Trainers[0].SamplesTrained);
        var resumed = await b.CheckpointAsync();

        // The same log without the interruption, on a model of its own.
        var c = new FreshetClient(client).Job("c-" + model);
        await c.CreateAsync(new JobSpec { Model = model + "c", SchemaJson = schema.Json, Shards = 2 });
        await c.StartAsync();
        await Publisher("c-" + model, 0).PublishAsync(train);
        Assert.Equal(JobState.Completed, (await ClusterTrainingTests.WaitCompletedAsync(c)).State);
        var uninterrupted = await c.CheckpointAsync();

        var aucResumed = await HeldOutAucAsync(h, schema, model, resumed.Version, held);
        var aucUninterrupted = await HeldOutAucAsync(h, schema, model + "c", uninterrupted.Version, held);
        output.WriteLine($"killed after {checkpoint.Version} at {12_000} samples; CTR AUC on {held.Count} later samples: restored and resumed {aucResumed:F4}, uninterrupted {aucUninterrupted:F4}");
        Assert.True(Math.Abs(aucResumed - aucUninterrupted) <= 0.005,
            $"CTR AUC on {held.Count} later samples: restored and resumed {aucResumed:F4}, uninterrupted {aucUninterrupted:F4}");
    }

    /// <summary>CTR AUC of a checkpoint on samples it never trained on, scored in process.</summary>
    private static async Task<double> HeldOutAucAsync(ClusterHarness h, FeatureSchema schema, string model, long version, List<Sample> held)
    {
        using var store = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, store, version, modelName: model);
        var step = new TrainingStep(store, Strategy.Base);
        var scores = new float[held.Count];
        for (var i = 0; i < held.Count; i += 256)
        {
            var batch = held.GetRange(i, Math.Min(256, held.Count - i));
            var part = new float[batch.Count];
            await step.ScoreAsync(batch, TaskKind.Ctr, part);
            part.CopyTo(scores, i);
        }
        return Auc.Compute(scores, held.Select(s => s.Label).ToArray());
    }
}
