using System.Text;
using Freshet.Parameters;

namespace Freshet.Grains.Parameters;

/// <summary>A shard's or dense grain's configuration in front of its binary state.</summary>
public static class ShardConfigCodec
{
    public static byte[] Write(ShardConfig config, byte[] state)
    {
        using var ms = new MemoryStream();
        Write(ms, config);
        ms.Write(state);
        return ms.ToArray();
    }

    /// <summary>Writes <paramref name="config"/> into <paramref name="stream"/>, where the state follows it.</summary>
    public static void Write(Stream stream, ShardConfig config)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(config.Model);
        w.Write(config.SchemaJson);
        w.Write(config.Shard);
        w.Write(config.Shards);
        w.Write(config.PersistInterval.Ticks);
    }

    public static ShardConfig Read(byte[] bytes, out int offset)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        var config = Read(ms);
        offset = (int)ms.Position;
        return config;
    }

    /// <summary>The configuration at the start of <paramref name="stream"/>, which is left where the state that follows it begins.</summary>
    public static ShardConfig Read(Stream stream)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var config = new ShardConfig
            {
                Model = r.ReadString(),
                SchemaJson = r.ReadString(),
                Shard = r.ReadInt32(),
                Shards = r.ReadInt32(),
                PersistInterval = TimeSpan.FromTicks(r.ReadInt64()),
            };
            if (Freshet.Model.Schema.NameRule.Problem(config.Model, "model") is { } problem) throw new InvalidDataException($"grain state: {problem}");
            if (config.Shards < 1 || config.Shard < 0 || config.Shard >= config.Shards) throw new InvalidDataException($"grain state of model '{config.Model}': shard {config.Shard} of {config.Shards} does not exist");
            if (config.PersistInterval < TimeSpan.Zero) throw new InvalidDataException($"grain state of model '{config.Model}': persist interval {config.PersistInterval}");
            return config;
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            throw new InvalidDataException($"grain state: its configuration cannot be read ({e.Message})", e);
        }
    }
}
