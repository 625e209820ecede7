using System.Security.Cryptography;
using Orleans.Storage;

namespace Freshet.Grains.Persistence;

/// <summary>
/// A grain's binary state written through any <see cref="IGrainStorage"/> in chunks of bounded size,
/// so no provider's record limit is hit (Azure Table caps an entity near 1 MB). A write puts a new
/// generation of chunks first and then switches the head to it, so a crash mid-write leaves the
/// previous state readable; the head carries a SHA-256 that a read verifies.
/// </summary>
public sealed class ChunkedGrainState(IGrainStorage storage, GrainId grain, string name, int chunkBytes = ChunkedGrainState.DefaultChunkBytes)
{
    public const int DefaultChunkBytes = 512 * 1024;

    private readonly GrainState<StateHead> _head = new(new StateHead());
    private readonly Dictionary<string, GrainState<StateChunk>> _chunks = new(StringComparer.Ordinal);
    private bool _headRead;

    /// <summary>Bytes written by the last write.</summary>
    public long LastWriteBytes { get; private set; }

    public async Task<byte[]?> ReadAsync(CancellationToken cancellationToken = default)
    {
        await ReadHeadAsync(cancellationToken);
        if (!_head.RecordExists) return null;
        var head = _head.State!;
        var data = new byte[head.Length];
        var at = 0;
        for (var i = 0; i < head.Chunks; i++)
        {
            var chunk = await ChunkAsync(ChunkName(head.Generation, i), read: true, cancellationToken);
            if (!chunk.RecordExists || at + chunk.State!.Data.Length > data.Length)
            {
                throw new InvalidDataException($"grain state '{name}' of {grain}: chunk {i} of generation {head.Generation} is missing or too long");
            }
            chunk.State!.Data.CopyTo(data, at);
            at += chunk.State!.Data.Length;
        }
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        if (at != data.Length || sha != head.Sha256)
        {
            throw new InvalidDataException($"grain state '{name}' of {grain}: {at} of {data.Length} bytes, SHA-256 {sha} instead of {head.Sha256}");
        }
        return data;
    }

    public async Task WriteAsync(byte[] data, CancellationToken cancellationToken = default)
    {
        await ReadHeadAsync(cancellationToken);
        var old = _head.RecordExists ? (_head.State!.Generation, _head.State.Chunks) : (Generation: -1, Chunks: 0);
        var generation = old.Generation + 1;
        var count = Math.Max(1, (data.Length + chunkBytes - 1) / chunkBytes);
        for (var i = 0; i < count; i++)
        {
            var chunk = await ChunkAsync(ChunkName(generation, i), read: true, cancellationToken);
            var start = i * chunkBytes;
            chunk.State = new StateChunk { Data = data.AsSpan(start, Math.Min(chunkBytes, data.Length - start)).ToArray() };
            await storage.WriteStateAsync(ChunkName(generation, i), grain, chunk, cancellationToken);
        }
        _head.State = new StateHead { Generation = generation, Chunks = count, Length = data.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(data)) };
        await storage.WriteStateAsync(HeadName, grain, _head, cancellationToken);
        LastWriteBytes = data.Length;
        for (var i = 0; i < old.Chunks; i++)
        {
            var key = ChunkName(old.Generation, i);
            var chunk = await ChunkAsync(key, read: false, cancellationToken);
            if (chunk.RecordExists) await storage.ClearStateAsync(key, grain, chunk, cancellationToken);
            _chunks.Remove(key);
        }
    }

    private async Task ReadHeadAsync(CancellationToken cancellationToken)
    {
        if (_headRead) return;
        await storage.ReadStateAsync(HeadName, grain, _head, cancellationToken);
        _headRead = true;
    }

    private async Task<GrainState<StateChunk>> ChunkAsync(string key, bool read, CancellationToken cancellationToken)
    {
        if (_chunks.TryGetValue(key, out var chunk)) return chunk;
        chunk = new GrainState<StateChunk>(new StateChunk());
        if (read) await storage.ReadStateAsync(key, grain, chunk, cancellationToken);
        _chunks[key] = chunk;
        return chunk;
    }

    private string HeadName => $"{name}.head";

    private string ChunkName(int generation, int index) => $"{name}.g{generation}.{index}";
}
