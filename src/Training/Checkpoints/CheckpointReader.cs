using System.Security.Cryptography;

namespace Freshet.Model.Checkpoints;

/// <summary>Opens a checkpoint version: reads its manifest and verifies every file's size and SHA-256 before anything is loaded.</summary>
public sealed class CheckpointReader
{
    private readonly ICheckpointStore _store;

    private CheckpointReader(ICheckpointStore store, CheckpointManifest manifest)
    {
        _store = store;
        Manifest = manifest;
    }

    public CheckpointManifest Manifest { get; }

    /// <summary>
    /// Opens <paramref name="version"/>, or the latest complete version when null. With
    /// <paramref name="verify"/> every file is checked now; otherwise check the files you read with <see cref="VerifyAsync(IEnumerable{ManifestFile}, CancellationToken)"/>.
    /// </summary>
    public static async Task<CheckpointReader> OpenAsync(ICheckpointStore store, string model, long? version = null, CancellationToken cancellationToken = default, bool verify = true)
    {
        var v = version;
        if (v is null)
        {
            var versions = await store.ListVersionsAsync(model, cancellationToken);
            if (versions.Count == 0)
            {
                throw new CheckpointException($"no checkpoint of model '{model}' in {store.Location} (a version counts once its manifest is written)");
            }
            v = versions[^1];
        }
        var where = $"checkpoint {CheckpointManifest.VersionFolder(model, v.Value)} in {store.Location}";
        var bytes = await store.ReadManifestAsync(model, v.Value, cancellationToken)
            ?? throw new CheckpointException($"{where} has no {CheckpointFiles.Manifest}: it was never completed, or is being written");
        var manifest = CheckpointManifest.Parse(bytes, where);
        var reader = new CheckpointReader(store, manifest);
        if (verify) await reader.VerifyAsync(cancellationToken);
        return reader;
    }

    /// <summary>Checks every listed file's size and SHA-256; the first mismatch is an error naming the file.</summary>
    public Task VerifyAsync(CancellationToken cancellationToken = default) => VerifyAsync(Manifest.Files, cancellationToken);

    /// <summary>Checks the given files' sizes and SHA-256.</summary>
    public async Task VerifyAsync(IEnumerable<ManifestFile> files, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[1 << 20];
        foreach (var f in files)
        {
            await using var s = await _store.OpenReadAsync(Manifest.Model, Manifest.Version, f.Name, cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            int read;
            while ((read = await s.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                size += read;
            }
            Check(f, size, hash.GetHashAndReset());
        }
    }

    /// <summary>
    /// Reads one listed file in a single pass: <paramref name="parse"/> reads it while its SHA-256 is computed, then the
    /// rest (if the parser stopped early) is read and the size and digest checked. A file that fails the check is reported
    /// as corrupt even when the parser failed first; the parsed content is returned only from a good file, so nothing
    /// built from a bad one is ever applied.
    /// </summary>
    public async Task<T> ReadVerifiedAsync<T>(ManifestFile file, Func<Stream, T> parse, CancellationToken cancellationToken = default)
    {
        await using var inner = await OpenAsync(file, cancellationToken);
        await using var s = new HashingReadStream(inner);
        T result;
        try
        {
            result = parse(s);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await s.DrainAsync(cancellationToken);
            Check(file, s.BytesRead, s.Digest()); // a corrupt file is the cause: say so
            throw;
        }
        await s.DrainAsync(cancellationToken);
        Check(file, s.BytesRead, s.Digest());
        return result;
    }

    private void Check(ManifestFile f, long size, byte[] sha256)
    {
        var where = Describe(f);
        if (size != f.Bytes)
        {
            throw new CheckpointException($"{where} has {size} bytes, the manifest says {f.Bytes}: the file is truncated or was changed; load an earlier version");
        }
        var digest = Convert.ToHexStringLower(sha256);
        if (!string.Equals(digest, f.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new CheckpointException($"{where} fails its SHA-256 check (expected {f.Sha256}, found {digest}): the file is corrupt; load an earlier version");
        }
    }

    public Task<Stream> OpenAsync(ManifestFile file, CancellationToken cancellationToken = default) =>
        _store.OpenReadAsync(Manifest.Model, Manifest.Version, file.Name, cancellationToken);

    public string Describe(ManifestFile file) => $"checkpoint {CheckpointManifest.VersionFolder(Manifest.Model, Manifest.Version)}: file '{file.Name}'";
}
