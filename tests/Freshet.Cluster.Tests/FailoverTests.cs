using System.Runtime.InteropServices;
using Freshet.Client;
using Freshet.Feedback;
using Freshet.Serving;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Parameters;

namespace Freshet.Cluster.Tests;

/// <summary>Two silos; the one that hosts the shards dies mid-training.</summary>
public class FailoverTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Model = "failover";
    private const string JobName = "failover-job";
    private const int Shards = 2;

    [Fact]
    public async Task Training_resumes_after_losing_the_shard_silo_with_the_losses_the_tiers_allow()
    {
        await using var h = await ClusterHarness.StartAsync(silos: 2, durableState: true);
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var persist = TimeSpan.FromMilliseconds(500);
        var job = h.Job(JobName);
        await job.CreateAsync(new JobSpec { Model = Model, SchemaJson = schema.Json, Shards = Shards, PersistInterval = persist });
        await job.StartAsync();

        // Shards on the second silo, everything else on the first.
        var primary = h.Cluster.Silos[0].SiloAddress;
        var doomed = h.Cluster.Silos[1];
        var shards = Enumerable.Range(0, Shards).Select(s => h.Grains.GetGrain<IEmbeddingShardGrain>($"{Model}/{s}")).ToList();
        foreach (var s in shards) await MoveAsync(h, s, doomed.SiloAddress);
        await MoveAsync(h, h.Grains.GetGrain<ITrainingOrchestratorGrain>(JobName), primary);
        await MoveAsync(h, h.Grains.GetGrain<ITrainerGrain>($"{JobName}/0"), primary);
        await MoveAsync(h, h.Grains.GetGrain<IDenseGrain>(Model), primary);

        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(36_000).ToList();
        var publisher = new SamplePublisher(h.Client, JobName, 1);
        await publisher.PublishAsync(samples.Take(12_000), end: false);
        await WaitTrainedAsync(job, 12_000);
        var checkpoint = await job.CheckpointAsync();
        await publisher.PublishAsync(samples.Skip(12_000).Take(12_000), end: false);
        await WaitTrainedAsync(job, 24_000);

        // Quiet now: within a persistence interval the changing tier is written; record both tiers once it is.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await Task.WhenAll(shards.Select(s => s.GetStatusAsync()))).Any(s => s.Unpersisted))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the shards did not persist their changing tier");
            await Task.Delay(50);
        }
        var items = samples.Take(24_000).Select(s => s.Ids[1]).Distinct().Take(200).ToArray();
        var categories = samples.Take(24_000).Select(s => s.Ids[2]).Distinct().ToArray();
        var frozenBefore = await ReadAsync(h, 1, items);
        var changingBefore = await ReadAsync(h, 2, categories);

        await h.Cluster.KillSiloAsync(doomed);

        // The shards come back on the surviving silo: the changing tier as last persisted (here: all of it,
        // as nothing trained since), the frozen tier as of the last checkpoint (the rows trained after it are lost).
        var changingAfter = await ReadAsync(h, 2, categories);
        Assert.Equal(changingBefore, changingAfter);
        var frozenAfter = await ReadAsync(h, 1, items);
        using var fromCheckpoint = new InProcessParameterStore(schema);
        await ModelCheckpoint.LoadAsync(h.Checkpoints, fromCheckpoint, checkpoint.Version, modelName: Model);
        var expected = new float[items.Length * 16];
        for (var i = 0; i < items.Length; i++)
        {
            if (!fromCheckpoint.Tables[1].TryGetRow(items[i], expected.AsSpan(i * 16, 16))) expected.AsSpan(i * 16, 16).Clear();
        }
        Assert.Equal(expected, frozenAfter);
        Assert.NotEqual(frozenBefore, frozenAfter);
        var statuses = await Task.WhenAll(shards.Select(s => s.GetStatusAsync()));
        Assert.All(statuses, s => Assert.Equal(checkpoint.Version, s.LoadedCheckpoint));

        // Training goes on to the end of the stream.
        await publisher.PublishAsync(samples.Skip(24_000));
        var done = await ClusterTrainingTests.WaitCompletedAsync(job, 240);
        Assert.Equal(JobState.Completed, done.State);
        Assert.Null(done.Error);
        Assert.Equal(36_000, done.Trainers[0].SamplesTrained);
    }

    [Fact]
    public async Task A_joiner_lost_with_its_silo_comes_back_with_what_it_last_persisted_and_labels_still_join()
    {
        await using var h = await ClusterHarness.StartAsync(silos: 2, durableState: true);
        var client = new FreshetClient(h.Client);
        const string model = "moving";
        var joiner = h.Grains.Joiner(model, 0);
        var doomed = h.Cluster.Silos[1];
        await MoveAsync(h, joiner, doomed.SiloAddress);
        await h.ServeAsync(model, new FeedbackSpec { Joiners = 1 }, replicas: 2, persistInterval: TimeSpan.FromMilliseconds(300));

        var rows = Enumerable.Range(0, 20).Select(i => ScoreRow.Of(("user", "u" + i), ("item", "i" + i))).ToList();
        var predictions = await client.ScoreAsync(model, rows);
        await PublishingTests.WaitAsync(async () => await joiner.GetStatusAsync() is { Predictions: 20, Unpersisted: false }, "the joiner holds and has written the 20 rows");

        // Mid-window: 10 more rows are served, and the silo dies at once, within the joiner's persist interval.
        await client.ScoreAsync(model, [.. Enumerable.Range(20, 10).Select(i => ScoreRow.Of(("user", "u" + i), ("item", "i" + i)))]);
        await h.Cluster.KillSiloAsync(doomed);

        // Back on the surviving silo from its last write: at most what came in since it (the 10 rows) is lost; the
        // persisted rows are still waiting, and labels for them join.
        var after = await joiner.GetStatusAsync();
        output.WriteLine($"the joiner came back holding {after.Predictions} of the 30 rows served; {30 - after.Predictions} were lost with the silo");
        Assert.InRange(after.Predictions, 20, 30);
        Assert.Equal(after.Predictions, after.PendingImpressions);
        Assert.Equal(h.Cluster.Silos[0].SiloAddress, await h.Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(joiner));
        await client.ReportAsync([.. predictions.Take(5).Select(p => new FeedbackLabel { Prediction = p.Id, Event = FeedbackEvent.Click, Time = DateTime.UtcNow })]);
        var labelled = await joiner.GetStatusAsync();
        Assert.Equal((5L, 0L, after.PendingImpressions - 5), (labelled.Clicks, labelled.LabelsUnmatched, labelled.PendingImpressions));
        Assert.Equal(after.Predictions + 5L, labelled.CtrSamples); // FNW: a provisional negative per row held, 5 late positives now
    }

    internal static async Task MoveAsync(ClusterHarness h, IGrain grain, SiloAddress target)
    {
        var management = h.Grains.GetGrain<IManagementGrain>(0);
        if (grain is IJoinerGrain joiner) await joiner.GetStatusAsync();
        if (grain is ITrainingOrchestratorGrain j) await j.GetStatusAsync();
        else if (grain is IEmbeddingShardGrain s) await s.GetStatusAsync();
        else if (grain is IDenseGrain d) await d.GetStatusAsync();
        else if (grain is ITrainerGrain t) await t.GetStatusAsync();
        if (await management.GetActivationAddress(grain) != target) await h.MigrateAsync(grain, target);
        Assert.Equal(target, await management.GetActivationAddress(grain));
    }

    private static async Task WaitTrainedAsync(ITrainingOrchestratorGrain job, long samples)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await job.GetStatusAsync()).Trainers[0].SamplesTrained < samples)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"trainer did not reach {samples} samples");
            await Task.Delay(20);
        }
    }

    /// <summary>The rows of <paramref name="ids"/> in one table, read without creating any, retried while the shards move.</summary>
    private static async Task<float[]> ReadAsync(ClusterHarness h, int table, ulong[] ids)
    {
        var dim = table == 1 ? 16 : 8;
        var result = new float[ids.Length * dim];
        foreach (var group in ids.Select((id, i) => (id, i)).GroupBy(x => ShardRouter.ShardOf(x.id, Shards)))
        {
            var list = group.ToList();
            var shard = h.Grains.GetGrain<IEmbeddingShardGrain>($"{Model}/{group.Key}");
            var request = new RowPull { Tables = [new TableIds { Index = table, Ids = MemoryMarshal.AsBytes(list.Select(x => x.id).ToArray().AsSpan()).ToArray(), Occurrences = new byte[list.Count * 4] }] };
            RowPullResult? pulled = null;
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (pulled is null)
            {
                try
                {
                    pulled = await shard.PullAsync(request);
                }
                catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200);
                }
            }
            var rows = MemoryMarshal.Cast<byte, float>(pulled.Rows[0]);
            for (var k = 0; k < list.Count; k++) rows.Slice(k * dim, dim).CopyTo(result.AsSpan(list[k].i * dim, dim));
        }
        return result;
    }
}
