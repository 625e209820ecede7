using System.Runtime.InteropServices;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Parameters;

namespace Freshet.Cluster.Tests;

public class ShardTests
{
    private static byte[] B<T>(params T[] v) where T : unmanaged => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    private static float[] F(byte[] b) => MemoryMarshal.Cast<byte, float>(b).ToArray();

    private static async Task<(IEmbeddingShardGrain Shard, FeatureSchema Schema)> ShardAsync(ClusterHarness h, string model, TimeSpan? persist = null)
    {
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var shard = h.Grains.GetGrain<IEmbeddingShardGrain>($"{model}/0");
        await shard.ConfigureAsync(new ShardConfig { Model = model, SchemaJson = schema.Json, Shard = 0, Shards = 1, PersistInterval = persist ?? TimeSpan.FromMinutes(10) });
        return (shard, schema);
    }

    private static readonly ulong[] Items = [IdHasher.Hash("i1"), IdHasher.Hash("i2")];
    private static readonly ulong[] Categories = [IdHasher.Hash("c1"), IdHasher.Hash("c2")];

    private static async Task<(float[] Frozen, float[] Changing)> ReadAsync(IEmbeddingShardGrain shard, bool create = false)
    {
        var r = await shard.PullAsync(new RowPull
        {
            Now = 1,
            Tables =
            [
                new TableIds { Index = 1, Train = create, Ids = B(Items), Occurrences = B(1, 1) },
                new TableIds { Index = 2, Train = create, Ids = B(Categories), Occurrences = B(1, 1) },
            ],
        });
        return (F(r.Rows[0]), F(r.Rows[1]));
    }

    private static Task<RowPushResult> PushAsync(IEmbeddingShardGrain shard, string job, long step) => shard.PushAsync(new RowPush
    {
        Job = job,
        Trainer = job + "/0",
        Step = step,
        Now = 2,
        Tables =
        [
            new TableGradients { Index = 1, Ids = B(Items), Gradients = B(Enumerable.Repeat(0.5f, 32).ToArray()) },
            new TableGradients { Index = 2, Ids = B(Categories), Gradients = B(Enumerable.Repeat(-0.5f, 16).ToArray()) },
        ],
    });

    [Fact]
    public async Task A_locked_job_has_its_frozen_updates_dropped_and_counted_while_changing_rows_move()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (shard, _) = await ShardAsync(h, "lock");
        var before = await ReadAsync(shard, create: true);
        await shard.SetFrozenLockAsync("b", true);

        var result = await PushAsync(shard, "b", 1);
        Assert.Equal(2, result.DroppedFrozen);
        Assert.Equal(2, result.Applied);
        var after = await ReadAsync(shard);
        Assert.Equal(before.Frozen, after.Frozen);
        Assert.NotEqual(before.Changing, after.Changing);

        var unlocked = await PushAsync(shard, "a", 1); // another job is not locked
        Assert.Equal(0, unlocked.DroppedFrozen);
        Assert.NotEqual(after.Frozen, (await ReadAsync(shard)).Frozen);
        var status = await shard.GetStatusAsync();
        Assert.Equal(2, status.DroppedFrozen["b"]);
        Assert.Equal(["b"], status.LockedJobs);
    }

    [Fact]
    public async Task A_retried_push_is_applied_once()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (shard, _) = await ShardAsync(h, "retry");
        await ReadAsync(shard, create: true);
        await PushAsync(shard, "a", 1);
        var once = await ReadAsync(shard);
        var again = await PushAsync(shard, "a", 1);
        Assert.Equal(0, again.Applied);
        Assert.Equal(once.Changing, (await ReadAsync(shard)).Changing);
    }

    [Fact]
    public async Task Deactivation_keeps_changing_rows_and_the_frozen_tier_comes_back_from_the_last_checkpoint()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (shard, _) = await ShardAsync(h, "persist");
        await ReadAsync(shard, create: true);
        await PushAsync(shard, "a", 1);
        var checkpointed = await ReadAsync(shard);
        var files = await shard.WriteCheckpointAsync(await h.Checkpoints.NextVersionAsync("persist"), rebase: true);
        var writer = Freshet.Model.Checkpoints.CheckpointWriter.ForVersion(h.Checkpoints, "persist", 1);
        foreach (var f in files) writer.AddWritten(new Freshet.Model.Checkpoints.ManifestFile { Name = f.Name, Kind = f.Kind, Bytes = f.Bytes, Sha256 = f.Sha256, Table = f.Table, Shard = f.Shard, Shards = f.Shards, Rows = f.Rows });
        await writer.CommitAsync(null, 0, "all");
        await PushAsync(shard, "a", 2); // after the checkpoint: changing rows persist, frozen rows only live in memory
        var latest = await ReadAsync(shard);

        await h.Cluster.DeactivateAsync(shard);
        await h.Cluster.WaitForDeactivationAsync(shard);

        var back = await ReadAsync(shard);
        Assert.Equal(latest.Changing, back.Changing);        // persisted on deactivation
        Assert.Equal(checkpointed.Frozen, back.Frozen);      // from checkpoint 1, not the later push
        Assert.NotEqual(latest.Frozen, back.Frozen);
        Assert.Equal(1, (await shard.GetStatusAsync()).LoadedCheckpoint);
    }

    /// <summary>Writes the shard's files into the next version of <paramref name="model"/> and commits it; returns the version.</summary>
    private static async Task<long> CheckpointAsync(ClusterHarness h, IEmbeddingShardGrain shard, string model, bool rebase = true)
    {
        var version = await h.Checkpoints.NextVersionAsync(model);
        var files = await shard.WriteCheckpointAsync(version, rebase);
        var writer = Freshet.Model.Checkpoints.CheckpointWriter.ForVersion(h.Checkpoints, model, version);
        foreach (var f in files) writer.AddWritten(new Freshet.Model.Checkpoints.ManifestFile { Name = f.Name, Kind = f.Kind, Bytes = f.Bytes, Sha256 = f.Sha256, Table = f.Table, Shard = f.Shard, Shards = f.Shards, Rows = f.Rows });
        await writer.CommitAsync(null, 0, "all");
        return version;
    }

    [Fact]
    public async Task A_reactivated_shard_takes_the_frozen_tier_of_the_version_it_is_on_not_the_latest()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (shard, _) = await ShardAsync(h, "rolled");
        await ReadAsync(shard, create: true);
        await PushAsync(shard, "a", 1);
        var v1 = await CheckpointAsync(h, shard, "rolled");
        var atV1 = await ReadAsync(shard);
        await PushAsync(shard, "a", 2);
        var v2 = await CheckpointAsync(h, shard, "rolled");
        Assert.NotEqual(atV1.Frozen, (await ReadAsync(shard)).Frozen);

        // A rollback to v1: v2 is the abandoned line, still in the store.
        await shard.LoadCheckpointAsync(v1);
        await h.Cluster.DeactivateAsync(shard);
        await h.Cluster.WaitForDeactivationAsync(shard);

        Assert.Equal(atV1.Frozen, (await ReadAsync(shard)).Frozen);
        Assert.Equal(v1, (await shard.GetStatusAsync()).LoadedCheckpoint);
        Assert.True(v2 > v1);
    }

    [Fact]
    public async Task Model_Bs_reactivated_shard_takes_Model_As_frozen_tier()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (a, _) = await ShardAsync(h, "main");
        await ReadAsync(a, create: true);
        await PushAsync(a, "main", 1);
        var version = await CheckpointAsync(h, a, "main");
        var atA = await ReadAsync(a);

        // Model B starts from A's checkpoint and never writes one of its own.
        var (b, _) = await ShardAsync(h, "main-b");
        await b.LoadCheckpointAsync(version, "main");
        Assert.Equal(atA.Frozen, (await ReadAsync(b)).Frozen);
        await h.Cluster.DeactivateAsync(b);
        await h.Cluster.WaitForDeactivationAsync(b);

        Assert.Equal(atA.Frozen, (await ReadAsync(b)).Frozen);
        Assert.Equal(version, (await b.GetStatusAsync()).LoadedCheckpoint);
    }

    [Fact]
    public async Task A_checkpoint_serving_is_not_told_of_keeps_the_changed_rows_for_the_next_delta()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (shard, _) = await ShardAsync(h, "kept");
        await ReadAsync(shard, create: true);
        await CheckpointAsync(h, shard, "kept"); // serving's base
        await PushAsync(shard, "a", 1);
        await CheckpointAsync(h, shard, "kept", rebase: false); // a job's own checkpoint: serving stays on the first
        var delta = await shard.TakeDeltaAsync(freshBudget: 0);
        Assert.True(delta.ChangingRows > 0, "the next delta on serving's base lost the rows changed before the job's checkpoint");

        await PushAsync(shard, "a", 2);
        await CheckpointAsync(h, shard, "kept", rebase: true); // announced: the next deltas build on it
        Assert.Equal(0, (await shard.TakeDeltaAsync(freshBudget: 0)).ChangingRows);
    }

    [Fact]
    public async Task A_shard_whose_state_cannot_be_read_activates_empty_says_why_and_trains_again_once_a_checkpoint_is_loaded()
    {
        await using var h = await ClusterHarness.StartAsync(durableState: true);
        var (shard, schema) = await ShardAsync(h, "broken");
        await ReadAsync(shard, create: true);
        await PushAsync(shard, "a", 1);
        var version = await CheckpointAsync(h, shard, "broken");
        var atCheckpoint = await ReadAsync(shard);
        await shard.PersistAsync();

        // A byte of the persisted state goes bad (the largest file of the shards' state: its one chunk).
        var folder = Directory.GetDirectories(Path.Combine(h.CheckpointFolder, "state")).Single(d => Path.GetFileName(d).Contains("shard", StringComparison.OrdinalIgnoreCase));
        var chunk = new DirectoryInfo(folder).GetFiles("*.state").OrderByDescending(f => f.Length).First().FullName;
        var bytes = await File.ReadAllBytesAsync(chunk);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(chunk, bytes);
        await h.Cluster.DeactivateAsync(shard);
        await h.Cluster.WaitForDeactivationAsync(shard);

        // It activates (status answers), says why, and refuses to train rather than start over from nothing.
        var status = await shard.GetStatusAsync();
        Assert.Contains("cannot be read", status.Error);
        Assert.Contains("rollback", status.Error);
        var refused = await Assert.ThrowsAsync<ShardStateException>(() => ReadAsync(shard));
        Assert.Contains("refuses to train", refused.Message);
        await Assert.ThrowsAsync<ShardStateException>(() => PushAsync(shard, "a", 2));

        // A restore configures it and loads the checkpoint: it trains again, from what the checkpoint holds.
        await shard.ConfigureAsync(new ShardConfig { Model = "broken", SchemaJson = schema.Json, Shard = 0, Shards = 1, PersistInterval = TimeSpan.FromMinutes(10) });
        await shard.LoadCheckpointAsync(version);
        Assert.Null((await shard.GetStatusAsync()).Error);
        var back = await ReadAsync(shard);
        Assert.Equal(atCheckpoint.Frozen, back.Frozen);
        Assert.Equal(atCheckpoint.Changing, back.Changing);
        await PushAsync(shard, "a", 2);
    }

    [Fact]
    public async Task Changed_rows_are_tracked_per_tier_since_the_last_take()
    {
        await using var h = await ClusterHarness.StartAsync();
        var (shard, _) = await ShardAsync(h, "changed");
        await ReadAsync(shard, create: true);
        var frozen = await shard.TakeChangedRowsAsync("frozen");
        var changing = await shard.TakeChangedRowsAsync("changing");
        Assert.Equal(2, frozen.Ids.Sum(b => b.Length / 8)); // the two items created by the pull
        Assert.Equal(2, changing.Ids.Sum(b => b.Length / 8));
        Assert.Equal(0, (await shard.TakeChangedRowsAsync("changing")).Ids.Sum(b => b.Length / 8));
        await shard.PushAsync(new RowPush { Job = "a", Trainer = "a/0", Step = 1, Now = 2, Tables = [new TableGradients { Index = 2, Ids = B(Categories[0]), Gradients = B(new float[8]) }] });
        var next = await shard.TakeChangedRowsAsync("changing");
        Assert.Equal([Categories[0]], next.Ids.SelectMany(b => MemoryMarshal.Cast<byte, ulong>(b).ToArray()));
        await Assert.ThrowsAsync<ArgumentException>(() => shard.TakeChangedRowsAsync("dense"));
    }
}
