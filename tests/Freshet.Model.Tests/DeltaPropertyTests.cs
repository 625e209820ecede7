using System.Security.Cryptography;
using CsCheck;
using Freshet.Model.Checkpoints;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Statistics;
using Xunit.Abstractions;

namespace Freshet.Model.Tests;

/// <summary>
/// The decoders of what a publish ships, on random and mutated bytes: <see cref="WeightDelta.Decode"/> (with the shards'
/// parts, <see cref="ShardDeltaPart"/>, inside) and <see cref="ShardFile.Read"/>, the format of a table's rows in a
/// delta, a checkpoint and a shard's state.
/// </summary>
public class DeltaPropertyTests(ITestOutputHelper output)
{
    /// <summary>Allocation per byte read: each row's arrays, and the merge of the parts (a row list and the merged arrays).</summary>
    public const long BytesPerByte = 16;

    /// <summary>Bytes after a delta's body: its length, its SHA-256 and the end marker.</summary>
    private const int TrailerBytes = 8 + 32 + 8;

    private static TableSnapshot Rows(string table, int dim, bool state, params ulong[] ids) =>
        new(table, dim, state ? 1 : 0, SparseOptimizerKind.Adagrad, ids, [.. ids.SelectMany(id => Enumerable.Repeat((float)id, dim))],
            state ? [.. ids.Select(id => (float)id)] : [], [.. ids.Select(id => (long)id * 10)], new int[ids.Length]);

    private static TableSnapshot Rate(params ulong[] ids)
    {
        ulong[] all = [.. ids, RateTable.TotalsId];
        return new TableSnapshot("clicks", 2, 0, SparseOptimizerKind.Adagrad, all, [.. all.SelectMany(id => new[] { 1f, 2f })], [], [.. all.Select(id => 7L)], new int[all.Length]);
    }

    internal static byte[][] ValidDeltas()
    {
        var first = new ShardDeltaPart([Rows("category", 4, false, 1, 3)], [Rate(1, 3)], [new RemovedRows("category", [9])], 2, 0, 0);
        var second = new ShardDeltaPart([Rows("category", 4, false, 2), Rows("user", 2, false, 8)], [Rate(2)], [new RemovedRows("category", [4, 5])], 1, 1, 0);
        DenseTowerWeights[] dense = [new(TaskKind.Ctr, [0.5f, -1f], [1, 2, 3]), new(TaskKind.Cvr, [2f], [])];
        var at = new DateTime(2026, 12, 4, 10, 0, 0, DateTimeKind.Utc);
        return
        [
            WeightDelta.Frame("m", new WeightsVersion(4, 2), at, at.AddMinutes(-1), [first.Encode(), second.Encode()], dense),
            WeightDelta.Frame("m", new WeightsVersion(1, 1), at, null, [first.Encode()], []),
            WeightDelta.Frame("m", new WeightsVersion(1, 1), at, null, [], dense),
        ];
    }

    internal static byte[][] ValidShardFiles()
    {
        byte[] Write(TableSnapshot s, bool withState)
        {
            using var ms = new MemoryStream();
            ShardFile.Write(ms, s, 1, 4, withState);
            return ms.ToArray();
        }
        return [Write(Rows("user", 3, true, 1, 2, 3), true), Write(Rows("user", 3, false, 5), false), Write(Rows("item", 1, false), false), Write(Rate(4, 5), false)];
    }

    /// <summary>
    /// <paramref name="bytes"/> with a trailer made for whatever body they now have (all but the old trailer's bytes): a
    /// mutated delta that passes its SHA-256 check, so the parser itself is what meets it.
    /// </summary>
    internal static byte[] Resealed(byte[] bytes)
    {
        var body = bytes.Length > TrailerBytes ? bytes[..^TrailerBytes] : bytes;
        return [.. body, .. BitConverter.GetBytes((long)body.Length), .. SHA256.HashData(body), .. "FRSHDEND"u8];
    }

    [Fact]
    public void Random_and_mutated_deltas_fail_with_an_invalid_data_error_and_cost_no_more_than_their_length()
    {
        foreach (var valid in ValidDeltas()) Assert.NotNull(WeightDelta.Decode(valid));
        var inputs = Gen.Select(DecoderProperty.Payloads(ValidDeltas()), Gen.Int[0, 3]).Select(x => x.Item2 == 0 ? x.Item1 : Resealed(x.Item1));
        DecoderProperty.Holds<InvalidDataException>(output, "WeightDelta.Decode", inputs, bytes => WeightDelta.Decode(bytes, "delta under test"), "delta under test", BytesPerByte, 16 * 1024);
    }

    [Fact]
    public void Random_and_mutated_shard_files_fail_with_a_checkpoint_error_and_cost_no_more_than_their_length()
    {
        foreach (var valid in ValidShardFiles()) Assert.NotNull(ShardFile.Read(new MemoryStream(valid), "shard under test").Snapshot);
        // Read from a seekable stream (a file, a blob) and from one that cannot say its length (the rows grow as they arrive).
        var inputs = Gen.Select(DecoderProperty.Payloads(ValidShardFiles()), Gen.Bool);
        DecoderProperty.Holds<(byte[] Bytes, bool Seekable), CheckpointException>(output, "ShardFile.Read", inputs,
            x => ShardFile.Read(x.Seekable ? new MemoryStream(x.Bytes) : new ForwardOnlyStream(x.Bytes), "shard under test"), x => x.Bytes.Length, "shard under test", BytesPerByte, 128 * 1024);
    }

    [Fact]
    public void A_delta_whose_removal_claims_two_to_the_thirty_ids_is_refused_before_it_allocates()
    {
        // One part of no tables or rates and one removal of 2^30 ids, resealed: the ids' count was allocated as it came.
        var part = new List<byte>();
        part.AddRange(BitConverter.GetBytes(0));
        part.AddRange(BitConverter.GetBytes(0));
        part.AddRange(BitConverter.GetBytes(1));
        part.AddRange([1, (byte)'t']);
        part.AddRange(BitConverter.GetBytes(1 << 30));
        var delta = WeightDelta.Frame("m", new WeightsVersion(1, 1), DateTime.UnixEpoch, null, [[.. part]], []);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => WeightDelta.Decode(delta, "forged delta"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "refused before the ids were allocated");
        Assert.Contains("1073741824 removed ids", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A stream that reads forward and cannot say how long it is (a network stream).</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
