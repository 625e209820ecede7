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
        using var ms = new MemoryStream();
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
        return ms.ToArray();
    }

    /// <summary>Reads what <see cref="Encode"/> wrote; the row counts travel beside it.</summary>
    public static ShardDeltaPart Decode(byte[] payload, int changingRows, int freshRows, int freshPending, string where = "shard delta")
    {
        using var ms = new MemoryStream(payload);
        int t, r, d;
        using (var reader = new BinaryReader(ms, Encoding.UTF8, leaveOpen: true))
        {
            t = reader.ReadInt32();
            r = reader.ReadInt32();
            d = reader.ReadInt32();
        }
        var tables = new List<TableSnapshot>(t);
        for (var i = 0; i < t; i++) tables.Add(ShardFile.Read(ms, where).Snapshot);
        var rates = new List<TableSnapshot>(r);
        for (var i = 0; i < r; i++) rates.Add(ShardFile.Read(ms, where).Snapshot);
        var removed = new List<RemovedRows>(d);
        using (var reader = new BinaryReader(ms, Encoding.UTF8, leaveOpen: true))
        {
            for (var i = 0; i < d; i++) removed.Add(ReadRemoved(reader));
        }
        return new ShardDeltaPart(tables, rates, removed, changingRows, freshRows, freshPending);
    }

    internal static void WriteRemoved(BinaryWriter w, RemovedRows r)
    {
        w.Write(r.Table);
        w.Write(r.Ids.Length);
        foreach (var id in r.Ids) w.Write(id);
    }

    internal static RemovedRows ReadRemoved(BinaryReader r)
    {
        var table = r.ReadString();
        var ids = new ulong[r.ReadInt32()];
        for (var i = 0; i < ids.Length; i++) ids[i] = r.ReadUInt64();
        return new RemovedRows(table, ids);
    }
}
