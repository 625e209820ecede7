using System.Runtime.InteropServices;
using System.Text;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;

namespace Freshet.Model.Checkpoints;

/// <summary>
/// Binary file of one shard of one table (little-endian): magic <c>FRSHSHRD</c>, format version,
/// table name, dim, state width, optimizer, shard i of n, row count, flags; then ids (uint64), rows
/// (float32 x dim), last-seen times (int64), step counts (int32) and, if flagged, optimizer state
/// (float32 x state width).
/// </summary>
public static class ShardFile
{
    private static readonly byte[] Magic = "FRSHSHRD"u8.ToArray();
    private const ushort FormatVersion = 1;
    private const byte HasState = 1;

    public static void Write(Stream stream, TableSnapshot s, int shard, int shards, bool withState = true)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(s.Table);
        w.Write(s.Dim);
        w.Write(s.StateWidth);
        w.Write((byte)s.Optimizer);
        w.Write(shard);
        w.Write(shards);
        w.Write((long)s.Ids.Length);
        w.Write(withState ? HasState : (byte)0);
        w.Write(MemoryMarshal.AsBytes(s.Ids.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(s.Weights.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(s.LastSeen.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(s.Steps.AsSpan()));
        if (withState) w.Write(MemoryMarshal.AsBytes(s.State.AsSpan()));
    }

    /// <summary>
    /// Writes every row of <paramref name="table"/> in the same format as its <see cref="EmbeddingTable.Export()"/> would be
    /// written, column by column straight from the table through one small buffer: no snapshot of the rows is made. The
    /// table must not change meanwhile (a shard writes under the barrier, within its grain turn).
    /// </summary>
    public static int Write(Stream stream, EmbeddingTable table, int shard, int shards)
    {
        var (ids, slots) = table.Ordered();
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(table.Name);
        w.Write(table.Dim);
        w.Write(table.StateWidth);
        w.Write((byte)table.Optimizer.Kind);
        w.Write(shard);
        w.Write(shards);
        w.Write((long)ids.Length);
        w.Write(HasState);
        w.Write(MemoryMarshal.AsBytes(ids.AsSpan()));
        Column<float>(w, slots, table.Dim, (slot, into) => table.WeightsAt(slot).CopyTo(into));
        Column<long>(w, slots, 1, (slot, into) => into[0] = table.LastSeenAt(slot));
        Column<int>(w, slots, 1, (slot, into) => into[0] = table.StepsAt(slot));
        Column<float>(w, slots, table.StateWidth, (slot, into) => table.StateAt(slot).CopyTo(into));
        return ids.Length;
    }

    private delegate void RowCopy<T>(int slot, Span<T> into);

    /// <summary>One column of every row (<paramref name="width"/> values each), in <paramref name="slots"/>' order, through a 1 MB buffer.</summary>
    private static void Column<T>(BinaryWriter w, int[] slots, int width, RowCopy<T> copy) where T : unmanaged
    {
        if (width == 0) return;
        var perRow = width * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var rowsPerBuffer = Math.Max(1, (1 << 20) / perRow);
        var buffer = System.Buffers.ArrayPool<T>.Shared.Rent(rowsPerBuffer * width);
        try
        {
            for (var start = 0; start < slots.Length; start += rowsPerBuffer)
            {
                var count = Math.Min(rowsPerBuffer, slots.Length - start);
                for (var i = 0; i < count; i++) copy(slots[start + i], buffer.AsSpan(i * width, width));
                w.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, count * width)));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<T>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a shard file; <paramref name="name"/> is used in errors.</summary>
    public static (TableSnapshot Snapshot, int Shard, int Shards) Read(Stream stream, string name)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var magic = r.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new CheckpointException($"{name}: not a Freshet shard file (bad magic)");
            var version = r.ReadUInt16();
            if (version > FormatVersion) throw new CheckpointException($"{name}: shard format {version} is newer than this build reads ({FormatVersion})");
            var table = r.ReadString();
            var dim = r.ReadInt32();
            var stateWidth = r.ReadInt32();
            var optimizer = (SparseOptimizerKind)r.ReadByte();
            var shard = r.ReadInt32();
            var shards = r.ReadInt32();
            var rows = r.ReadInt64();
            var flags = r.ReadByte();
            if (dim <= 0 || stateWidth < 0 || rows < 0 || rows > int.MaxValue / Math.Max(1, dim))
            {
                throw new CheckpointException($"{name}: header is inconsistent (dim {dim}, state width {stateWidth}, rows {rows})");
            }
            var n = (int)rows;
            var ids = new ulong[n];
            var weights = new float[n * dim];
            var lastSeen = new long[n];
            var steps = new int[n];
            var hasState = (flags & HasState) != 0;
            var state = new float[hasState ? n * stateWidth : 0];
            ReadExactly(r, MemoryMarshal.AsBytes(ids.AsSpan()), name);
            ReadExactly(r, MemoryMarshal.AsBytes(weights.AsSpan()), name);
            ReadExactly(r, MemoryMarshal.AsBytes(lastSeen.AsSpan()), name);
            ReadExactly(r, MemoryMarshal.AsBytes(steps.AsSpan()), name);
            if (hasState) ReadExactly(r, MemoryMarshal.AsBytes(state.AsSpan()), name);
            return (new TableSnapshot(table, dim, hasState ? stateWidth : 0, optimizer, ids, weights, state, lastSeen, steps), shard, shards);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException($"{name}: the file ends early (truncated)", e);
        }
    }

    private static void ReadExactly(BinaryReader r, Span<byte> into, string name)
    {
        if (r.BaseStream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) != into.Length)
        {
            throw new CheckpointException($"{name}: the file ends early (truncated)");
        }
    }
}
