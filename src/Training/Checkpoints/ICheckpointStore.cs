namespace Freshet.Model.Checkpoints;

/// <summary>
/// Where full checkpoints live: <c>{model}/{version:D10}/</c> holding the files and, written last,
/// <c>manifest.json</c>. A version without a manifest is invisible. Implementations: a local
/// directory, Azure Blob.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Where the store is, for messages.</summary>
    string Location { get; }

    /// <summary>Names of the models that have anything in the store (a version started or complete), sorted.</summary>
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default);

    /// <summary>Versions of <paramref name="model"/> that have a manifest, ascending.</summary>
    Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>A version number above every version written or started so far.</summary>
    Task<long> NextVersionAsync(string model, CancellationToken cancellationToken = default);

    Task<Stream> OpenWriteAsync(string model, long version, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a whole file that readers see complete or not at all (a retained delta, which no manifest
    /// guards): a temporary name renamed into place, or one blob upload.
    /// </summary>
    Task WriteAtomicAsync(string model, long version, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Opens a file for reading; a missing file is a <see cref="CheckpointException"/> naming it.</summary>
    Task<Stream> OpenReadAsync(string model, long version, string name, CancellationToken cancellationToken = default);

    /// <summary>Writes the manifest atomically: the version becomes visible.</summary>
    Task CommitManifestAsync(string model, long version, byte[] manifest, CancellationToken cancellationToken = default);

    /// <summary>The manifest's bytes, or null when the version has none.</summary>
    Task<byte[]?> ReadManifestAsync(string model, long version, CancellationToken cancellationToken = default);

    Task DeleteVersionAsync(string model, long version, CancellationToken cancellationToken = default);

    /// <summary>Names of the files in a version's folder that start with <paramref name="prefix"/> (retained deltas), sorted.</summary>
    Task<IReadOnlyList<string>> ListFilesAsync(string model, long version, string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the files of a version's folder that start with <paramref name="prefix"/> (retained deltas of an abandoned lineage).</summary>
    Task DeleteFilesAsync(string model, long version, string prefix, CancellationToken cancellationToken = default);
}
