using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Embeddings;

namespace Freshet.Model.Cluster;

/// <summary>
/// One shard's part of a delta (<see cref="ShardRows.TakeDelta"/>): the rows and rate counts that moved since
/// the last take, each rate's totals, the rows evicted since, and how many rows of each kind it holds.
/// </summary>
public sealed record ShardDeltaPart(
    IReadOnlyList<TableSnapshot> Tables,
    IReadOnlyList<TableSnapshot> Rates,
    IReadOnlyList<RemovedRows> Removed,
    int ChangingRows,
    int FreshRows,
    int FreshPending)
{
    /// <summary>The part as bytes for the wire: counts of tables, rates and removals, then each (shard-file sections for rows).</summary>
    public byte[] Encode()
    {
        // Written into a buffer of exactly its size: a part is often hundreds of KB, and a stream that doubles as it
        // grows, then copies out, made three or four large objects per part per publish.
        var size = 3 * sizeof(int) + Tables.Sum(t => ShardFile.SizeOf(t, withState: false)) + Rates.Sum(r => ShardFile.SizeOf(r, withState: false))
            + Removed.Sum(r => ShardFile.PrefixedStringBytes(r.Table) + sizeof(int) + (long)r.Ids.Length * sizeof(ulong));
        if (size > Array.MaxLength) throw new InvalidOperationException($"a shard's delta part of {size} bytes is over the largest array; publish more often");
        var buffer = new byte[size];
        using var ms = new MemoryStream(buffer);
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Tables.Count);
            w.Write(Rates.Count);
            w.Write(Removed.Count);
        }
        foreach (var t in Tables) ShardFile.Write(ms, t, 0, 1, withState: false);
        foreach (var r in Rates) ShardFile.Write(ms, r, 0, 1, withState: false);
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            foreach (var r in Removed) WriteRemoved(w, r);
        }
        if (ms.Position != buffer.Length) throw new InvalidOperationException($"a shard's delta part wrote {ms.Position} bytes where {buffer.Length} were counted");
        return buffer;
    }

    /// <summary>Reads one part where <paramref name="ms"/> stands (row counts 0: a reader of deltas does not need them).</summary>
    internal static ShardDeltaPart Read(MemoryStream ms, BinaryReader reader, string where) => Read(ms, reader, where, out _, legacy: false);

    /// <summary>Reads a format-2 delta's body: tables and rates, then the dense towers, then removals.</summary>
    internal static ShardDeltaPart Read(MemoryStream ms, BinaryReader reader, string where, out List<Serving.DenseTowerWeights> denseBetween) =>
        Read(ms, reader, where, out denseBetween, legacy: true);

    /// <summary>The fewest bytes a table or rate (its shard-file magic) and a removal (an empty name and a count) take: what a count claims is checked against them.</summary>
    private const int MinSectionBytes = 8;

    private const int MinRemovalBytes = 1 + sizeof(int);

    /// <exception cref="InvalidDataException">The part is not whole or not consistent: names <paramref name="where"/> and what was wrong.</exception>
    private static ShardDeltaPart Read(MemoryStream ms, BinaryReader reader, string where, out List<Serving.DenseTowerWeights> denseBetween, bool legacy)
    {
        var t = Count(ms, reader.ReadInt32(), MinSectionBytes, "tables", where);
        var r = Count(ms, reader.ReadInt32(), MinSectionBytes, "rates", where);
        var dense = legacy ? Count(ms, reader.ReadInt32(), MinSectionBytes, "dense towers", where) : 0;
        var d = Count(ms, reader.ReadInt32(), MinRemovalBytes, "removals", where);
        var tables = new List<TableSnapshot>(t);
        var rates = new List<TableSnapshot>(r);
        try
        {
            for (var i = 0; i < t; i++) tables.Add(ShardFile.Read(ms, $"{where}, table {i}").Snapshot);
            for (var i = 0; i < r; i++) rates.Add(ShardFile.Read(ms, $"{where}, rate {i}").Snapshot);
        }
        catch (CheckpointException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        denseBetween = legacy ? Serving.WeightDelta.ReadDense(ms, reader, dense, where) : [];
        var removed = new List<RemovedRows>(d);
        for (var i = 0; i < d; i++) removed.Add(ReadRemoved(ms, reader, $"{where}, removal {i}"));
        return new ShardDeltaPart(tables, rates, removed, 0, 0, 0);
    }

    /// <summary>A count read from the wire, if the bytes left could hold that many items of at least <paramref name="minBytes"/> each.</summary>
    internal static int Count(MemoryStream ms, int count, long minBytes, string what, string where)
    {
        var left = ms.Length - ms.Position;
        if (count < 0 || count * minBytes > left)
        {
            throw new InvalidDataException($"{where}: {count} {what}, with {left} bytes left (each takes at least {minBytes}): the delta is damaged");
        }
        return count;
    }

    internal static void WriteRemoved(BinaryWriter w, RemovedRows r)
    {
        w.Write(r.Table);
        w.Write(r.Ids.Length);
        foreach (var id in r.Ids) w.Write(id);
    }

    internal static RemovedRows ReadRemoved(MemoryStream ms, BinaryReader r, string where)
    {
        var table = r.ReadString();
        var ids = new ulong[Count(ms, r.ReadInt32(), sizeof(ulong), "removed ids", where)];
        for (var i = 0; i < ids.Length; i++) ids[i] = r.ReadUInt64();
        return new RemovedRows(table, ids);
    }
}
