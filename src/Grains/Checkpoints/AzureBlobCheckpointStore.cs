using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Freshet.Model.Checkpoints;

namespace Freshet.Grains.Checkpoints;

/// <summary>
/// Checkpoints in an Azure Blob container: <c>{model}/{version:D10}/{file}</c>, <c>manifest.json</c>
/// uploaded last (a blob upload is atomic, so a version appears whole or not at all). A version is
/// reserved with a marker blob when allocated, so two writers never take the same number. A model's name
/// (<see cref="Model.Schema.NameRule"/>) and a file's (<see cref="CheckpointFiles.IsFileName"/>) are checked before they
/// become parts of a blob's name or a listing's prefix.
/// </summary>
public sealed class AzureBlobCheckpointStore(BlobContainerClient container) : ICheckpointStore
{
    private const string Marker = ".started";

    /// <summary>
    /// The checkpoint container's client options: retries bounded to about 4 s (0.25, 0.5, 1 and 2 s apart). A checkpoint
    /// holds every trainer at its barrier while it writes, so during a storage outage it must fail soon and say so
    /// (the SDK's default backs off for about 25 s); a scheduled checkpoint is tried again later and deltas go on meanwhile.
    /// </summary>
    public static BlobClientOptions ClientOptions() => new()
    {
        Retry = { MaxRetries = 4, Delay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(2), Mode = Azure.Core.RetryMode.Exponential },
    };
    private readonly SemaphoreSlim _create = new(1, 1);
    private bool _created;

    public string Location => container.Uri.ToString();

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        var models = new List<string>();
        await foreach (var item in container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", null, cancellationToken))
        {
            if (item.IsPrefix && item.Prefix.TrimEnd('/') is var model && Model.Schema.NameRule.IsValid(model)) models.Add(model);
        }
        models.Sort(StringComparer.Ordinal);
        return models;
    }

    public async Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        var versions = new List<long>();
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{Checked(model)}/", cancellationToken))
        {
            if (!blob.Name.EndsWith("/" + CheckpointFiles.Manifest, StringComparison.Ordinal)) continue;
            if (ParseVersion(model, blob.Name) is { } v) versions.Add(v);
        }
        versions.Sort();
        return versions;
    }

    public async Task<long> NextVersionAsync(string model, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        long max = 0;
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{Checked(model)}/", cancellationToken))
        {
            if (ParseVersion(model, blob.Name) is { } v) max = Math.Max(max, v);
        }
        for (var next = max + 1; ; next++)
        {
            try
            {
                // If-None-Match: * makes the reservation atomic: a racing writer gets the next number.
                await container.GetBlobClient(Name(model, next, Marker)).UploadAsync(BinaryData.FromString(""), new BlobUploadOptions { Conditions = new() { IfNoneMatch = ETag.All } }, cancellationToken);
                return next;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
            }
        }
    }

    public async Task<Stream> OpenWriteAsync(string model, long version, string name, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        return await container.GetBlobClient(Name(model, version, name)).OpenWriteAsync(overwrite: true, cancellationToken: cancellationToken);
    }

    public async Task WriteAtomicAsync(string model, long version, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        // One upload: its blocks stay uncommitted until the block list is put, so readers never see part of it
        // (OpenWriteAsync, by contrast, makes an empty blob first).
        await container.GetBlobClient(Name(model, version, name)).UploadAsync(BinaryData.FromBytes(content), overwrite: true, cancellationToken);
    }

    public async Task<Stream> OpenReadAsync(string model, long version, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await container.GetBlobClient(Name(model, version, name)).OpenReadAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new CheckpointException($"checkpoint {CheckpointManifest.VersionFolder(model, version)}: file '{name}' is missing ({Location}/{Name(model, version, name)})", e);
        }
    }

    public async Task CommitManifestAsync(string model, long version, byte[] manifest, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        await container.GetBlobClient(Name(model, version, CheckpointFiles.Manifest)).UploadAsync(BinaryData.FromBytes(manifest), overwrite: true, cancellationToken);
    }

    public async Task<byte[]?> ReadManifestAsync(string model, long version, CancellationToken cancellationToken = default)
    {
        try
        {
            var blob = container.GetBlobClient(Name(model, version, CheckpointFiles.Manifest));
            await using var s = await blob.OpenReadAsync(cancellationToken: cancellationToken);
            return await StreamBlocks.ReadAllAsync(s, CheckpointManifest.MaxBytes, $"checkpoint {CheckpointManifest.VersionFolder(model, version)}: {CheckpointFiles.Manifest} ({Location})", cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task DeleteVersionAsync(string model, long version, CancellationToken cancellationToken = default)
    {
        // The manifest goes first: a half-deleted version is invisible rather than corrupt.
        await container.GetBlobClient(Name(model, version, CheckpointFiles.Manifest)).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, CheckpointManifest.VersionFolder(Checked(model), version) + "/", cancellationToken))
        {
            await container.GetBlobClient(blob.Name).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }

    public async Task<IReadOnlyList<string>> ListFilesAsync(string model, long version, string prefix, CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken);
        var folder = CheckpointManifest.VersionFolder(Checked(model), version) + "/";
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, folder + prefix, cancellationToken)) names.Add(blob.Name[folder.Length..]);
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public async Task DeleteFilesAsync(string model, long version, string prefix, CancellationToken cancellationToken = default)
    {
        foreach (var name in await ListFilesAsync(model, version, prefix, cancellationToken))
        {
            await container.GetBlobClient(Name(model, version, name)).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
    }

    private string Name(string model, long version, string name) =>
        $"{CheckpointManifest.VersionFolder(Checked(model), version)}/{(name == Marker ? name : CheckpointFiles.CheckFileName(name, $"checkpoint store {Location}"))}";

    /// <exception cref="CheckpointException"><paramref name="model"/> is not a model's name.</exception>
    private string Checked(string model) =>
        Model.Schema.NameRule.Problem(model, "model") is { } problem ? throw new CheckpointException($"checkpoint store {Location}: {problem}") : model;

    private static long? ParseVersion(string model, string blobName)
    {
        var rest = blobName.AsSpan(model.Length + 1);
        var slash = rest.IndexOf('/');
        return slash > 0 && long.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_created) return;
        await _create.WaitAsync(cancellationToken);
        try
        {
            if (!_created)
            {
                await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                _created = true;
            }
        }
        finally
        {
            _create.Release();
        }
    }
}
