using Freshet.Checkpoints;
using Freshet.Model.Checkpoints;

namespace Freshet.Grains.Checkpoints;

/// <summary>Manifest entries between the model's checkpoint format and the wire.</summary>
internal static class ManifestFiles
{
    public static CheckpointFile ToWire(this ManifestFile f) => new()
    {
        Name = f.Name, Kind = f.Kind, Bytes = f.Bytes, Sha256 = f.Sha256, Table = f.Table, Shard = f.Shard, Shards = f.Shards, Rows = f.Rows, Steps = f.Steps,
    };

    public static ManifestFile FromWire(this CheckpointFile f) => new()
    {
        Name = f.Name, Kind = f.Kind, Bytes = f.Bytes, Sha256 = f.Sha256, Table = f.Table, Shard = f.Shard, Shards = f.Shards, Rows = f.Rows, Steps = f.Steps,
    };
}
