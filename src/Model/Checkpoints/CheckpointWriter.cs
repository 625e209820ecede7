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

    /// <summary>Writes a file through <paramref name="write"/> and records its size and SHA-256.</summary>
    public async Task<ManifestFile> AddFileAsync(string name, string kind, Action<Stream> write, string? table = null, int? shard = null, int? shards = null, long? rows = null, CancellationToken cancellationToken = default)
    {
        await using var target = await _store.OpenWriteAsync(Model, Version, name, cancellationToken);
        ManifestFile file;
        using (var hashing = new HashingWriteStream(target))
        {
            using (var buffered = new BufferedStream(hashing, 1 << 20))
            {
                write(buffered);
            }
            file = new ManifestFile { Name = name, Kind = kind, Bytes = hashing.Written, Sha256 = hashing.HexDigest(), Table = table, Shard = shard, Shards = shards, Rows = rows };
        }
        await target.FlushAsync(cancellationToken);
        _files.Add(file);
        return file;
    }

    /// <summary>Writes the manifest: from here on the version exists.</summary>
    public async Task<CheckpointManifest> CommitAsync(DateTime? eventTime, long samples, string? strategy, CancellationToken cancellationToken = default)
    {
        var manifest = new CheckpointManifest
        {
            Model = Model,
            Version = Version,
            CreatedUtc = DateTime.UtcNow,
            EventTime = eventTime,
            Samples = samples,
            Strategy = strategy,
            Files = [.. _files],
        };
        await _store.CommitManifestAsync(Model, Version, manifest.ToJson(), cancellationToken);
        return manifest;
    }
}
