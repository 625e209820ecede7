namespace Freshet.Model.Checkpoints;

/// <summary>The names of a checkpoint's files (DESIGN.md section 5): one per table shard, one per rate shard, the dense tier and the schema.</summary>
public static class CheckpointFiles
{
    public const string Dense = "dense.bin";
    public const string Schema = "schema.json";

    public static string Shard(string table, int shard) => $"{table}.{shard:D4}.shard";

    public static string Statistics(string rate, int shard) => $"{rate}.{shard:D4}.stats";
}
