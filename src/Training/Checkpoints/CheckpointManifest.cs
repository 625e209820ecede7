using System.Text.Json;
using System.Text.Json.Serialization;

namespace Freshet.Model.Checkpoints;

/// <summary>
/// <c>manifest.json</c>, written last: a checkpoint exists only once its manifest does, and every
/// file it lists is verified (size and SHA-256) before anything is loaded.
/// </summary>
public sealed record CheckpointManifest
{
    public const string FormatName = "freshet-checkpoint";
    public const int CurrentFormatVersion = 1;

    /// <summary>Bytes of a manifest, at most: thousands of files with their trainers' steps fit in far less.</summary>
    public const int MaxBytes = 16 << 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Format { get; init; } = FormatName;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    public required string Model { get; init; }

    /// <summary>The checkpoint version: monotonic per model; <see cref="Serving.WeightsVersion.Checkpoint"/> names it.</summary>
    public required long Version { get; init; }

    public required DateTime CreatedUtc { get; init; }

    /// <summary>Event time of the last sample trained into this state, if any.</summary>
    public DateTime? EventTime { get; init; }

    /// <summary>Samples trained since the model was created.</summary>
    public long Samples { get; init; }

    public string? Strategy { get; init; }

    /// <summary>Each trainer's step count at the barrier the checkpoint was taken under.</summary>
    public IReadOnlyDictionary<string, long>? Steps { get; init; }

    /// <summary>
    /// Per sample stream (<c>{partition}/{task}</c>, e.g. <c>0/ctr</c>), the position of the last sample whose effect this
    /// checkpoint holds; a job restored from it skips samples at or before these (streams whose producer numbers samples).
    /// </summary>
    public IReadOnlyDictionary<string, long>? Positions { get; init; }

    /// <summary>
    /// For the keys of <see cref="Positions"/> whose samples came from an Event Hubs partition
    /// (<c>{partition}/{task}@{hub}/{hub partition}</c>), the offset of the event holding the last sample this checkpoint
    /// holds: where a reader starts again to resume after it (<see cref="ResumeOffsets"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string>? Offsets { get; init; }

    /// <summary>
    /// Per source (<c>{hub}/{hub partition}</c>), the earliest of <see cref="Offsets"/>: reading the partition again from
    /// there gives every trainer of the job all it lacks (what comes before, it skips by <see cref="Positions"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> ResumeOffsets()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, offset) in Offsets ?? new Dictionary<string, string>())
        {
            var at = key.IndexOf('@', StringComparison.Ordinal);
            if (at < 0) continue;
            var source = key[(at + 1)..];
            if (!result.TryGetValue(source, out var earliest) || CompareOffsets(offset, earliest) < 0) result[source] = offset;
        }
        return result;
    }

    /// <summary>Event Hubs offsets are numbers written as text: compared as numbers, as text where one is not.</summary>
    public static int CompareOffsets(string a, string b) =>
        long.TryParse(a, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var x)
        && long.TryParse(b, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var y)
            ? x.CompareTo(y)
            : string.CompareOrdinal(a, b);

    public required IReadOnlyList<ManifestFile> Files { get; init; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>
    /// Reads a manifest and checks it holds what a reader relies on: a model, files with names that stay in their folder
    /// (<see cref="CheckpointFiles.IsFileName"/>), sizes and digests that can be checked.
    /// </summary>
    /// <exception cref="CheckpointException">It is not a whole, consistent manifest; the message starts with <paramref name="where"/> and names the field.</exception>
    public static CheckpointManifest Parse(byte[] json, string where)
    {
        if (json.Length > MaxBytes) throw new CheckpointException($"{where}: the manifest has {json.Length} bytes, over the {MaxBytes} a manifest may have");
        CheckpointManifest? m;
        try
        {
            m = JsonSerializer.Deserialize<CheckpointManifest>(json, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new CheckpointException($"{where}: the manifest is not valid JSON ({e.Message})", e);
        }
        if (m is null || m.Format != FormatName)
        {
            throw new CheckpointException($"{where}: not a Freshet checkpoint manifest");
        }
        if (m.FormatVersion > CurrentFormatVersion)
        {
            throw new CheckpointException($"{where}: format version {m.FormatVersion} is newer than this build reads ({CurrentFormatVersion}); upgrade Freshet");
        }
        if (string.IsNullOrEmpty(m.Model)) throw new CheckpointException($"{where}: the manifest names no model");
        if (m.Version < 1) throw new CheckpointException($"{where}: the manifest's version is {m.Version}; versions count from 1");
        if (m.Files is null) throw new CheckpointException($"{where}: the manifest lists no files");
        for (var i = 0; i < m.Files.Count; i++)
        {
            var f = m.Files[i] ?? throw new CheckpointException($"{where}: files[{i}] is null");
            CheckpointFiles.CheckFileName(f.Name, $"{where}: files[{i}].name");
            if (string.IsNullOrEmpty(f.Kind)) throw new CheckpointException($"{where}: files[{i}] ('{f.Name}') has no kind");
            if (f.Bytes < 0) throw new CheckpointException($"{where}: files[{i}] ('{f.Name}') has {f.Bytes} bytes");
            if (f.Sha256 is not { Length: 64 } || !f.Sha256.All(char.IsAsciiHexDigit)) throw new CheckpointException($"{where}: files[{i}] ('{f.Name}'): sha256 is not 64 hex digits");
            if (f.Shards is { } shards && (shards < 1 || f.Shard is not { } shard || shard < 0 || shard >= shards))
            {
                throw new CheckpointException($"{where}: files[{i}] ('{f.Name}') is shard {f.Shard} of {shards}, which does not exist");
            }
            if (f.Rows < 0) throw new CheckpointException($"{where}: files[{i}] ('{f.Name}') has {f.Rows} rows");
        }
        return m;
    }

    public static string VersionFolder(string model, long version) => $"{model}/{version:D10}";
}
