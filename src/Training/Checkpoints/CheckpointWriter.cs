namespace Freshet.Model.Checkpoints;

/// <summary>Writes one checkpoint version: files first (hashed as they are written), the manifest last.</summary>
public sealed class CheckpointWriter
{
    private readonly ICheckpointStore _store;
    private readonly List<ManifestFile> _files = [];

    private CheckpointWriter(ICheckpointStore store, string model, long version)
    {
        _store = store;
        Model = model;
        Version = version;
    }

    public string Model { get; }

    public long Version { get; }

    public static async Task<CheckpointWriter> BeginAsync(ICheckpointStore store, string model, CancellationToken cancellationToken = default) =>
        new(store, model, await store.NextVersionAsync(model, cancellationToken));

    /// <summary>A writer for a version already allocated (its files written by several grains).</summary>
    public static CheckpointWriter ForVersion(ICheckpointStore store, string model, long version) => new(store, model, version);

    /// <summary>Writes a file through <paramref name="write"/> and records its size and SHA-256.</summary>
    public async Task<ManifestFile> AddFileAsync(string name, string kind, Action<Stream> write, string? table = null, int? shard = null, int? shards = null, long? rows = null, CancellationToken cancellationToken = default)
    {
        var file = await WriteFileAsync(_store, Model, Version, name, kind, write, cancellationToken);
        file = file with { Table = table, Shard = shard, Shards = shards, Rows = rows };
        _files.Add(file);
        return file;
    }

    /// <summary>Adds a file some other writer put into this version (a shard grain, the dense grain).</summary>
    public void AddWritten(ManifestFile file) => _files.Add(file);

    /// <summary>Writes one file of a version (used by each grain for its own part) and returns its manifest entry.</summary>
    public static async Task<ManifestFile> WriteFileAsync(ICheckpointStore store, string model, long version, string name, string kind, Action<Stream> write, CancellationToken cancellationToken = default)
    {
        await using var target = await store.OpenWriteAsync(model, version, name, cancellationToken);
        ManifestFile file;
        using (var hashing = new HashingWriteStream(target))
        {
            using (var buffered = new BufferedStream(hashing, 1 << 20))
            {
                write(buffered);
            }
            file = new ManifestFile { Name = name, Kind = kind, Bytes = hashing.Written, Sha256 = hashing.HexDigest() };
        }
        await target.FlushAsync(cancellationToken);
        return file;
    }

    /// <summary>Writes the manifest: from here on the version exists.</summary>
    public async Task<CheckpointManifest> CommitAsync(DateTime? eventTime, long samples, string? strategy, IReadOnlyDictionary<string, long>? steps = null, CancellationToken cancellationToken = default,
        IReadOnlyDictionary<string, long>? positions = null, IReadOnlyDictionary<string, string>? offsets = null)
    {
        var manifest = new CheckpointManifest
        {
            Model = Model,
            Version = Version,
            CreatedUtc = DateTime.UtcNow,
            EventTime = eventTime,
            Samples = samples,
            Strategy = strategy,
            Steps = steps,
            Positions = positions is { Count: > 0 } ? positions : null,
            Offsets = offsets is { Count: > 0 } ? offsets : null,
            Files = [.. _files],
        };
        await _store.CommitManifestAsync(Model, Version, manifest.ToJson(), cancellationToken);
        return manifest;
    }

    /// <summary>
    /// Deletes all but the newest <paramref name="keep"/> complete versions, never one of <paramref name="needed"/> (what
    /// serving follows, the guard's good weights and ceiling, the base of the job's deltas); returns the deleted ones.
    /// </summary>
    public static async Task<IReadOnlyList<long>> PruneAsync(ICheckpointStore store, string model, int keep, IReadOnlySet<long>? needed = null, CancellationToken cancellationToken = default)
    {
        var versions = await store.ListVersionsAsync(model, cancellationToken);
        var deleted = versions.Take(Math.Max(0, versions.Count - Math.Max(1, keep))).Where(v => needed?.Contains(v) != true).ToList();
        foreach (var v in deleted) await store.DeleteVersionAsync(model, v, cancellationToken);
        return deleted;
    }
}
