using System.Globalization;

namespace Freshet.Model.Checkpoints;

/// <summary>
/// Checkpoints in a local directory: <c>{root}/{model}/{version:D10}/</c>. A model's name (<see cref="Schema.NameRule"/>)
/// and a file's (<see cref="CheckpointFiles.IsFileName"/>) are checked before they become parts of a path, so nothing
/// outside the root is ever read, written or deleted.
/// </summary>
public sealed class LocalCheckpointStore : ICheckpointStore
{
    public LocalCheckpointStore(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string Location => Root;

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>(Directory.Exists(Root)
            ? [.. Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>().Where(Schema.NameRule.IsValid).Order(StringComparer.Ordinal)]
            : []);

    public Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<long>>([.. AllVersions(model).Where(v => File.Exists(Path.Combine(VersionPath(model, v), CheckpointFiles.Manifest)))]);

    public Task<long> NextVersionAsync(string model, CancellationToken cancellationToken = default)
    {
        var next = AllVersions(model).DefaultIfEmpty(0).Max() + 1;
        Directory.CreateDirectory(VersionPath(model, next));
        return Task.FromResult(next);
    }

    public Task<Stream> OpenWriteAsync(string model, long version, string name, CancellationToken cancellationToken = default)
    {
        var dir = VersionPath(model, version);
        Directory.CreateDirectory(dir);
        return Task.FromResult<Stream>(new FileStream(Path.Combine(dir, FileName(name)), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20));
    }

    public async Task WriteAtomicAsync(string model, long version, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var dir = VersionPath(model, version);
        Directory.CreateDirectory(dir);
        // A unique temporary name (listings skip *.tmp), flushed to disk before the rename makes it visible.
        var temp = Path.Combine(dir, $"{FileName(name)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await file.WriteAsync(content, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, Path.Combine(dir, name), overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public Task<Stream> OpenReadAsync(string model, long version, string name, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(VersionPath(model, version), FileName(name));
        if (!File.Exists(path))
        {
            throw new CheckpointException($"checkpoint {CheckpointManifest.VersionFolder(model, version)}: file '{name}' is missing ({path})");
        }
        return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20));
    }

    public async Task CommitManifestAsync(string model, long version, byte[] manifest, CancellationToken cancellationToken = default)
    {
        var dir = VersionPath(model, version);
        var temp = Path.Combine(dir, CheckpointFiles.Manifest + ".tmp");
        await File.WriteAllBytesAsync(temp, manifest, cancellationToken);
        File.Move(temp, Path.Combine(dir, CheckpointFiles.Manifest), overwrite: true);
    }

    public async Task<byte[]?> ReadManifestAsync(string model, long version, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(VersionPath(model, version), CheckpointFiles.Manifest);
        if (!File.Exists(path)) return null;
        await using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        return await StreamBlocks.ReadAllAsync(s, CheckpointManifest.MaxBytes, $"checkpoint {CheckpointManifest.VersionFolder(model, version)}: {CheckpointFiles.Manifest} ({path})", cancellationToken);
    }

    public Task DeleteVersionAsync(string model, long version, CancellationToken cancellationToken = default)
    {
        var dir = VersionPath(model, version);
        if (Directory.Exists(dir))
        {
            // The manifest goes first, so a half-deleted version is invisible rather than corrupt.
            var manifest = Path.Combine(dir, CheckpointFiles.Manifest);
            if (File.Exists(manifest)) File.Delete(manifest);
            Directory.Delete(dir, recursive: true);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListFilesAsync(string model, long version, string prefix, CancellationToken cancellationToken = default)
    {
        var dir = VersionPath(model, version);
        IReadOnlyList<string> names = Directory.Exists(dir)
            ? [.. Directory.EnumerateFiles(dir, prefix + "*").Select(Path.GetFileName).OfType<string>().Where(n => !n.EndsWith(".tmp", StringComparison.Ordinal)).Order(StringComparer.Ordinal)]
            : [];
        return Task.FromResult(names);
    }

    public async Task DeleteFilesAsync(string model, long version, string prefix, CancellationToken cancellationToken = default)
    {
        foreach (var name in await ListFilesAsync(model, version, prefix, cancellationToken))
        {
            File.Delete(Path.Combine(VersionPath(model, version), name));
        }
    }

    /// <exception cref="CheckpointException"><paramref name="model"/> is not a model's name (<see cref="Schema.NameRule"/>).</exception>
    public string VersionPath(string model, long version) => Path.Combine(Root, Model(model), version.ToString("D10", CultureInfo.InvariantCulture));

    private string Model(string model) =>
        Schema.NameRule.Problem(model, "model") is { } problem ? throw new CheckpointException($"checkpoint store {Root}: {problem}") : model;

    private string FileName(string name) => CheckpointFiles.CheckFileName(name, $"checkpoint store {Root}");

    private IEnumerable<long> AllVersions(string model)
    {
        var dir = Path.Combine(Root, Model(model));
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateDirectories(dir)
            .Select(d => long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
            .Where(v => v > 0)
            .Order();
    }
}
