using System.Security.Cryptography;
using System.Text;
using Orleans.Serialization;
using Orleans.Storage;

namespace Freshet.Grains.Persistence;

/// <summary>
/// Grain state in files under a folder (Orleans's binary serializer, one file per grain and state,
/// written to a temporary file and renamed into place). For a single machine that must keep jobs
/// and the changing tier across silo restarts without a storage service. ETags are a version
/// number: a write over a newer version is refused like every Orleans storage provider refuses it.
/// </summary>
public sealed class DirectoryGrainStorage(string folder, Serializer serializer) : IGrainStorage
{
    private readonly string _folder = Path.GetFullPath(folder);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        var bytes = await File.ReadAllBytesAsync(path);
        var version = BitConverter.ToInt64(bytes, 0);
        grainState.State = serializer.Deserialize<T>(bytes.AsMemory(8));
        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var current = CurrentVersion(path);
        Check(stateName, grainId, grainState.ETag, current);
        var next = (current ?? 0) + 1;
        var body = serializer.SerializeToArray(grainState.State);
        var bytes = new byte[8 + body.Length];
        BitConverter.TryWriteBytes(bytes, next);
        body.CopyTo(bytes, 8);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temp, bytes);
        File.Move(temp, path, overwrite: true);
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        Check(stateName, grainId, grainState.ETag, CurrentVersion(path));
        if (File.Exists(path)) File.Delete(path);
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
        return Task.CompletedTask;
    }

    private static long? CurrentVersion(string path)
    {
        if (!File.Exists(path)) return null;
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8];
        f.ReadExactly(head);
        return BitConverter.ToInt64(head);
    }

    private static void Check(string stateName, GrainId grainId, string? etag, long? current)
    {
        var expected = current?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (current is not null && etag != expected)
        {
            throw new InconsistentStateException($"state '{stateName}' of {grainId} is at version {expected}, the write was based on {etag ?? "nothing"}", etag ?? "", expected ?? "");
        }
    }

    private string PathOf(string stateName, GrainId grainId)
    {
        var type = grainId.Type.ToString() ?? "grain";
        var safeType = new string([.. type.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(grainId.ToString() + "\n" + stateName)))[..32];
        return Path.Combine(_folder, safeType, key + ".state");
    }
}
