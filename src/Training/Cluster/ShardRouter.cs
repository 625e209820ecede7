using Freshet.Model.Hashing;

namespace Freshet.Model.Cluster;

/// <summary>Which shard holds an id's rows: a hash of the id, so every table's rows spread evenly.</summary>
public static class ShardRouter
{
    private const ulong Salt = 0x5851F42D4C957F2DUL;

    public static int ShardOf(ulong id, int shards) => shards <= 1 ? 0 : (int)(IdHasher.Mix(id ^ Salt) % (ulong)shards);
}
