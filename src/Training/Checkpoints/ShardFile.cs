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

    /// <summary>The bytes <see cref="Write(Stream, TableSnapshot, int, int, bool)"/> writes for <paramref name="s"/>: a buffer of exactly this size takes it.</summary>
    public static long SizeOf(TableSnapshot s, bool withState = true) =>
        Magic.Length + sizeof(ushort) + PrefixedStringBytes(s.Table) + 3 * sizeof(int) + sizeof(byte) + sizeof(int) + sizeof(long) + sizeof(byte)
        + (long)s.Ids.Length * sizeof(ulong) + (long)s.Weights.Length * sizeof(float) + (long)s.LastSeen.Length * sizeof(long)
        + (long)s.Steps.Length * sizeof(int) + (withState ? (long)s.State.Length * sizeof(float) : 0);

    /// <summary>The bytes <see cref="BinaryWriter.Write(string)"/> takes for <paramref name="value"/>: its UTF-8 length as a 7-bit varint, then the bytes.</summary>
    public static int PrefixedStringBytes(string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        var prefix = 1;
        for (var v = (uint)n; v >= 0x80; v >>= 7) prefix++;
        return prefix + n;
    }

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
        StreamBlocks.Write(w, s.Ids);
        StreamBlocks.Write(w, s.Weights);
        StreamBlocks.Write(w, s.LastSeen);
        StreamBlocks.Write(w, s.Steps);
        if (withState) StreamBlocks.Write(w, s.State);
    }

    /// <summary>
    /// Writes every row of <paramref name="table"/> in the format <see cref="Write(Stream, TableSnapshot, int, int, bool)"/>
    /// writes a snapshot, column by column straight from the table: the rows in slot order, each column read front to back
    /// and written in runs of consecutive slots. No snapshot of the rows is made and no sort. The table must not change
    /// meanwhile (a shard writes under the barrier, within its grain turn).
    /// </summary>
    public static int Write(Stream stream, EmbeddingTable table, int shard, int shards)
    {
        var (ids, slots) = table.InSlotOrder();
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
        StreamBlocks.Write(w, ids);
        Column(w, slots, table.Dim, table.WeightsOf);
        Column(w, slots, 1, table.LastSeenOf);
        Column(w, slots, 1, table.StepsOf);
        Column(w, slots, table.StateWidth, table.StateOf);
        return ids.Length;
    }

    private delegate ReadOnlySpan<T> RowRun<T>(int slot, int count);

    /// <summary>One column of every row (<paramref name="width"/> values each), in <paramref name="slots"/>' order, a run of consecutive slots (up to 1 MB) at a time.</summary>
    private static void Column<T>(BinaryWriter w, int[] slots, int width, RowRun<T> run) where T : unmanaged
    {
        if (width == 0) return;
        var most = Math.Max(1, (1 << 20) / (width * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        for (var i = 0; i < slots.Length;)
        {
            var first = slots[i];
            var count = 1;
            while (i + count < slots.Length && count < most && slots[i + count] == first + count) count++;
            w.Write(MemoryMarshal.AsBytes(run(first, count)));
            i += count;
        }
    }

    private static int? FirstNotFinite(float[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return null;
    }

    /// <summary>Characters of a table's name in a shard file, at most (field names are at most 64, rate names add a suffix).</summary>
    private const int MaxTableName = 256;

    /// <summary>
    /// Reads a shard file; <paramref name="name"/> is used in errors. Its header's sizes are checked against the bytes the
    /// stream still holds before the rows are allocated (see <see cref="StreamBlocks"/>), so what it costs is bounded by
    /// the file's length, whatever the header says.
    /// </summary>
    /// <exception cref="CheckpointException">The file is not a whole, consistent shard file; the message names it and what was wrong.</exception>
    public static (TableSnapshot Snapshot, int Shard, int Shards) Read(Stream stream, string name) => Read(stream, name, null);

    /// <summary>
    /// As <see cref="Read(Stream, string)"/>, keeping only the rows whose id <paramref name="keep"/> takes (all when null):
    /// a shard reading a file split another way holds its own rows and the file's ids, never the whole file's rows.
    /// </summary>
    public static (TableSnapshot Snapshot, int Shard, int Shards) Read(Stream stream, string name, Func<ulong, bool>? keep)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var magic = r.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new CheckpointException($"{name}: not a Freshet shard file (bad magic)");
            var version = r.ReadUInt16();
            if (version > FormatVersion) throw new CheckpointException($"{name}: shard format {version} is newer than this build reads ({FormatVersion})");
            var table = r.ReadString();
            if (table.Length is 0 or > MaxTableName) throw new CheckpointException($"{name}: the table's name has {table.Length} characters; 1 to {MaxTableName}");
            var dim = r.ReadInt32();
            var stateWidth = r.ReadInt32();
            var optimizer = (SparseOptimizerKind)r.ReadByte();
            var shard = r.ReadInt32();
            var shards = r.ReadInt32();
            var rows = r.ReadInt64();
            var flags = r.ReadByte();
            if (dim <= 0 || stateWidth < 0 || rows < 0 || rows > int.MaxValue / Math.Max(1, dim) || (flags & ~HasState) != 0)
            {
                throw new CheckpointException($"{name}: header is inconsistent (dim {dim}, state width {stateWidth}, rows {rows}, flags {flags})");
            }
            if (!Enum.IsDefined(optimizer)) throw new CheckpointException($"{name}: optimizer {(byte)optimizer} is not one ({string.Join(", ", Enum.GetNames<SparseOptimizerKind>())})");
            if (shards < 1 || shard < 0 || shard >= shards) throw new CheckpointException($"{name}: shard {shard} of {shards} does not exist");
            var n = (int)rows;
            var hasState = (flags & HasState) != 0;
            var width = hasState ? stateWidth : 0;
            var needed = (Int128)n * (sizeof(ulong) + (Int128)dim * sizeof(float) + sizeof(long) + sizeof(int) + (Int128)width * sizeof(float));
            if (n * (Int128)width > int.MaxValue || (StreamBlocks.Remaining(stream) is { } left && needed > left))
            {
                throw new CheckpointException($"{name}: the header says {rows} rows of dim {dim}{(hasState ? $" with state width {stateWidth}" : "")} ({needed} bytes), {(StreamBlocks.Remaining(stream) is { } l ? $"the file holds {l} more" : "more than one array holds")}: the file is truncated or its header is wrong");
            }
            var ids = StreamBlocks.Read<ulong>(stream, n);
            if (ids is null) throw new CheckpointException($"{name}: the file ends early (truncated)");
            float[]? weights, state;
            long[]? lastSeen;
            int[]? steps;
            if (keep is null)
            {
                weights = StreamBlocks.Read<float>(stream, n * dim);
                lastSeen = weights is null ? null : StreamBlocks.Read<long>(stream, n);
                steps = lastSeen is null ? null : StreamBlocks.Read<int>(stream, n);
                state = steps is null ? null : StreamBlocks.Read<float>(stream, n * width);
            }
            else
            {
                var kept = Enumerable.Range(0, n).Where(i => keep(ids[i])).ToArray();
                weights = StreamBlocks.ReadRows<float>(stream, n, dim, kept);
                lastSeen = weights is null ? null : StreamBlocks.ReadRows<long>(stream, n, 1, kept);
                steps = lastSeen is null ? null : StreamBlocks.ReadRows<int>(stream, n, 1, kept);
                state = steps is null ? null : StreamBlocks.ReadRows<float>(stream, n, width, kept);
                ids = [.. kept.Select(i => ids[i])];
            }
            if (state is null) throw new CheckpointException($"{name}: the file ends early (truncated)");
            // A weight or optimizer state that is not a number would poison whatever takes it (an FTRL table throws on it).
            if (FirstNotFinite(weights!) is { } w) throw new CheckpointException($"{name}: row {w / dim} of table '{table}' has a weight that is not a finite number");
            if (FirstNotFinite(state) is { } x) throw new CheckpointException($"{name}: row {x / Math.Max(1, width)} of table '{table}' has optimizer state that is not a finite number");
            return (new TableSnapshot(table, dim, width, optimizer, ids!, weights!, state, lastSeen!, steps!), shard, shards);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException($"{name}: the file ends early (truncated)", e);
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            // BinaryReader's own refusals: a string length that is not one, or negative.
            throw new CheckpointException($"{name}: cannot be read ({e.Message})", e);
        }
    }
}
