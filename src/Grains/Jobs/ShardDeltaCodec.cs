using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Embeddings;

namespace Freshet.Grains.Jobs;

/// <summary>A shard's delta payload: a count of tables and of rates, then each as a shard-file section.</summary>
internal static class ShardDeltaCodec
{
    public static byte[] Write(IReadOnlyList<TableSnapshot> tables, IReadOnlyList<TableSnapshot> rates)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(tables.Count);
            w.Write(rates.Count);
        }
        foreach (var t in tables) ShardFile.Write(ms, t, 0, 1, withState: false);
        foreach (var r in rates) ShardFile.Write(ms, r, 0, 1, withState: false);
        return ms.ToArray();
    }

    public static void Read(byte[] payload, List<TableSnapshot> tables, List<TableSnapshot> rates)
    {
        using var ms = new MemoryStream(payload);
        int t, r;
        using (var reader = new BinaryReader(ms, Encoding.UTF8, leaveOpen: true))
        {
            t = reader.ReadInt32();
            r = reader.ReadInt32();
        }
        for (var i = 0; i < t; i++) tables.Add(ShardFile.Read(ms, "shard delta").Snapshot);
        for (var i = 0; i < r; i++) rates.Add(ShardFile.Read(ms, "shard delta").Snapshot);
    }
}
