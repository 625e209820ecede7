using System.Text;
using Freshet.Parameters;

namespace Freshet.Grains.Parameters;

/// <summary>A shard's or dense grain's configuration in front of its binary state.</summary>
internal static class ShardConfigCodec
{
    public static byte[] Write(ShardConfig config, byte[] state)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(config.Model);
            w.Write(config.SchemaJson);
            w.Write(config.Shard);
            w.Write(config.Shards);
            w.Write(config.PersistInterval.Ticks);
        }
        ms.Write(state);
        return ms.ToArray();
    }

    public static ShardConfig Read(byte[] bytes, out int offset)
    {
        using var ms = new MemoryStream(bytes);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        var config = new ShardConfig
        {
            Model = r.ReadString(),
            SchemaJson = r.ReadString(),
            Shard = r.ReadInt32(),
            Shards = r.ReadInt32(),
            PersistInterval = TimeSpan.FromTicks(r.ReadInt64()),
        };
        offset = (int)ms.Position;
        return config;
    }
}
