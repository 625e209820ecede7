using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Samples;

namespace Freshet.Cluster.Tests;

/// <summary>Stream positions in checkpoints (issue 15 §1): a restored job resumes a replayable stream exactly after what its checkpoint holds.</summary>
public class StreamPositionTests
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
        Assert.Equal(20_000, await new SamplePublisher(h.Client, "b-" + model, 2) { FirstPosition = 0 }.PublishAsync(log));
        var done = await ClusterTrainingTests.WaitCompletedAsync(b);
        Assert.Equal(JobState.Completed, done.State);

        // Exactly once: B skipped the 12,000 the checkpoint holds and trained the other 8,000, the 3,000 A lost among them.
        Assert.Equal(12_000, done.Trainers.Sum(t => t.SamplesSkipped));
        Assert.Equal(8_000, done.Trainers.Sum(t => t.SamplesTrained));
        Assert.Equal(20_000, manifest.Samples + done.Trainers.Sum(t => t.SamplesTrained));
        // Each stream ends at the log's last sample of that stream.
        var last = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < log.Count; i++) last[$"{SampleStreams.PartitionOf(log[i], 2)}/{log[i].Task.Name()}"] = i;
        var reached = done.Trainers.SelectMany((t, p) => t.Positions.Select(kv => KeyValuePair.Create($"{p}/{kv.Key}", kv.Value)));
        Assert.Equal(last.OrderBy(kv => kv.Key), reached.OrderBy(kv => kv.Key));

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
}
