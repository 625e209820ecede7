namespace Freshet.Model.Checkpoints;

/// <summary>
/// The names of the files in a checkpoint's folder (DESIGN.md section 5): one per table shard, one per rate shard,
/// the dense tier, the schema, the manifest (written last: a folder without it is not a checkpoint), and the deltas
/// retained on the checkpoint as their base.
/// </summary>
public static class CheckpointFiles
{
    public const string Dense = "dense.bin";
    public const string Schema = "schema.json";
    public const string Manifest = "manifest.json";

    /// <summary>What every retained delta's name starts with.</summary>
    public const string DeltaPrefix = "delta-";

    public static string Shard(string table, int shard) => $"{table}.{shard:D4}.shard";

    public static string Statistics(string rate, int shard) => $"{rate}.{shard:D4}.stats";

    /// <summary>A retained delta: its sequence on the base checkpoint, zero-padded so names sort in order.</summary>
    public static string Delta(long sequence) => $"{DeltaPrefix}{sequence:D10}.bin";

    /// <summary>Characters of a file's name in a checkpoint folder, at most.</summary>
    public const int MaxNameLength = 255;

    /// <summary>
    /// Whether <paramref name="name"/> can name a file in a checkpoint folder: letters, digits, '.', '-' and '_', not
    /// starting with '.', at most <see cref="MaxNameLength"/> characters. A name from a manifest never leaves its folder
    /// (no separator, no <c>..</c>).
    /// </summary>
    public static bool IsFileName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    /// <summary>Throws <see cref="CheckpointException"/> naming <paramref name="where"/> when <paramref name="name"/> is not a file name (<see cref="IsFileName"/>).</summary>
    public static string CheckFileName(string? name, string where) => IsFileName(name)
        ? name!
        : throw new CheckpointException($"{where}: '{Truncated(name)}' is not a checkpoint file's name (letters, digits, '.', '-' and '_', not starting with '.', at most {MaxNameLength} characters)");

    private static string Truncated(string? s) => s is null ? "(null)" : s.Length <= 64 ? s : s[..64] + "...";

    /// <summary>The sequence number in a retained delta's name (<see cref="Delta"/>), or 0 when the name is not one.</summary>
    public static long DeltaSequence(string fileName) =>
        fileName.StartsWith(DeltaPrefix, StringComparison.Ordinal) && fileName.EndsWith(".bin", StringComparison.Ordinal)
        && long.TryParse(fileName.AsSpan(DeltaPrefix.Length, fileName.Length - DeltaPrefix.Length - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s)
            ? s : 0;
}
