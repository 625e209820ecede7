using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Serving;
using Freshet.Model.Schema;
using Freshet.Model.Statistics;

namespace Freshet.Model.Tests;

/// <summary>A delta is encoded once from the shards' own parts, and read back as one snapshot per table.</summary>
public sealed class DeltaFormatTests
{
    private static TableSnapshot Rows(string table, int dim, params ulong[] ids) =>
        new(table, dim, 0, SparseOptimizerKind.Adagrad, ids, [.. ids.SelectMany(id => Enumerable.Repeat((float)id, dim))], [], [.. ids.Select(id => (long)id * 10)], new int[ids.Length]);

    /// <summary>A rate's part: counts of <paramref name="ids"/> (positives = id, samples = 2 id) and this shard's totals last.</summary>
    private static TableSnapshot Rate(float positives, float samples, params ulong[] ids)
    {
        ulong[] all = [.. ids, RateTable.TotalsId];
        return new TableSnapshot("clicks", 2, 0, SparseOptimizerKind.Adagrad, all,
            [.. ids.SelectMany(id => new[] { (float)id, 2f * id }), positives, samples], [], [.. ids.Select(id => (long)id), 7L], new int[all.Length]);
    }

    private static readonly ShardDeltaPart First = new([Rows("category", 4, 1, 3)], [Rate(5, 50, 1, 3)], [new RemovedRows("category", [9])], 2, 0, 0);

    private static readonly ShardDeltaPart Second = new([Rows("category", 4, 2), Rows("user", 2, 8)], [Rate(1, 20, 2)], [new RemovedRows("category", [4])], 1, 1, 0);

    private static readonly DenseTowerWeights[] Dense = [new(TaskKind.Ctr, [0.5f, -1f], [1, 2, 3]), new(TaskKind.Cvr, [2f], [])];

    [Fact]
    public void The_shards_parts_are_framed_as_they_are_and_read_back_merged_per_table()
    {
        var version = new WeightsVersion(4, 2);
        var snapshot = new DateTime(2026, 12, 4, 10, 0, 0, DateTimeKind.Utc);
        var encoded = WeightDelta.Frame("m", version, snapshot, snapshot.AddMinutes(-1), [First.Encode(), Second.Encode()], Dense);

        var delta = WeightDelta.Decode(encoded);
        Assert.Equal(("m", version, snapshot, snapshot.AddMinutes(-1)), (delta.Model, delta.Version, delta.SnapshotUtc, delta.EventTime));
        var category = delta.Tables.Single(t => t.Table == "category");
        Assert.Equal([1UL, 3, 2], category.Ids);
        Assert.Equal([.. Enumerable.Repeat(1f, 4), .. Enumerable.Repeat(3f, 4), .. Enumerable.Repeat(2f, 4)], category.Weights);
        Assert.Equal([10L, 30, 20], category.LastSeen);
        Assert.Equal([8UL], delta.Tables.Single(t => t.Table == "user").Ids);
        // A rate's rows from every shard, in id order, with the totals of all shards summed.
        var clicks = delta.Rates.Single();
        Assert.Equal([1UL, 2, 3, RateTable.TotalsId], clicks.Ids);
        Assert.Equal([1f, 2f, 2f, 4f, 3f, 6f, 6f, 70f], clicks.Weights);
        Assert.Equal([4UL, 9], delta.Removed.Single().Ids);
        Assert.Equal([TaskKind.Ctr, TaskKind.Cvr], delta.Dense.Select(d => d.Task));
        Assert.Equal([0.5f, -1f], delta.Dense[0].Parameters);
        Assert.Equal([1, 2, 3], delta.Dense[0].Buffers);
        Assert.Equal(4, delta.Rows);
    }

    [Fact]
    public void A_whole_delta_encodes_as_one_part_and_round_trips()
    {
        var merged = WeightDelta.Assemble("m", new WeightsVersion(1, 1), DateTime.UnixEpoch, null, [First, Second], Dense);
        var again = WeightDelta.Decode(merged.Encode());
        Assert.Null(again.EventTime);
        Assert.Equal(merged.Tables.Select(t => (t.Table, t.Ids.Length)), again.Tables.Select(t => (t.Table, t.Ids.Length)));
        Assert.Equal(merged.Rates.Single().Weights, again.Rates.Single().Weights);
        Assert.Equal(merged.Removed.Single().Ids, again.Removed.Single().Ids);
    }

    [Fact]
    public void A_damaged_part_is_named_and_the_delta_refused()
    {
        var encoded = WeightDelta.Frame("m", new WeightsVersion(1, 1), DateTime.UnixEpoch, null, [First.Encode(), Second.Encode()], Dense);
        encoded[200] ^= 0xFF;
        var e = Assert.Throws<InvalidDataException>(() => WeightDelta.Decode(encoded, "delta m v1+1"));
        Assert.StartsWith("delta m v1+1: fails its SHA-256 check", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Deltas retained by builds before parts were framed (format 2: one merged body) still read.</summary>
    [Fact]
    public void A_format_2_delta_retained_by_an_older_build_still_reads()
    {
        var merged = WeightDelta.Assemble("m", new WeightsVersion(3, 5), DateTime.UnixEpoch.AddDays(1), null, [First, Second], Dense);
        var delta = WeightDelta.Decode(FormatTwo(merged));
        Assert.Equal(new WeightsVersion(3, 5), delta.Version);
        Assert.Equal(merged.Tables.Single(t => t.Table == "category").Ids, delta.Tables.Single(t => t.Table == "category").Ids);
        Assert.Equal(merged.Rates.Single().Weights, delta.Rates.Single().Weights);
        Assert.Equal(merged.Removed.Single().Ids, delta.Removed.Single().Ids);
        Assert.Equal([2f], delta.Dense[1].Parameters);
    }

    /// <summary>Format 2 as those builds wrote it.</summary>
    private static byte[] FormatTwo(WeightDelta d)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("FRSHDLTA"u8);
            w.Write((ushort)2);
            w.Write(d.Model);
            w.Write(d.Version.Checkpoint);
            w.Write(d.Version.Delta);
            w.Write(d.SnapshotUtc.Ticks);
            w.Write(d.EventTime?.Ticks ?? -1);
            w.Write(d.Tables.Count);
            w.Write(d.Rates.Count);
            w.Write(d.Dense.Count);
            w.Write(d.Removed.Count);
        }
        foreach (var t in d.Tables) ShardFile.Write(ms, t, 0, 1, withState: false);
        foreach (var r in d.Rates) ShardFile.Write(ms, r, 0, 1, withState: false);
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            foreach (var x in d.Dense)
            {
                w.Write((byte)x.Task);
                w.Write(x.Parameters.Length);
                foreach (var p in x.Parameters) w.Write(p);
                w.Write(x.Buffers.Length);
                w.Write(x.Buffers);
            }
            foreach (var r in d.Removed)
            {
                w.Write(r.Table);
                w.Write(r.Ids.Length);
                foreach (var id in r.Ids) w.Write(id);
            }
            var body = ms.Length;
            var digest = System.Security.Cryptography.SHA256.HashData(ms.GetBuffer().AsSpan(0, (int)body));
            w.Write(body);
            w.Write(digest);
            w.Write("FRSHDEND"u8);
        }
        return ms.ToArray();
    }
}
