using System.Security.Cryptography;
using System.Threading.Channels;
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

    /// <summary>The state as one array (null: none written); a state of more than 2 GB is refused: read it with <see cref="OpenReadAsync"/>.</summary>
    public async Task<byte[]?> ReadAsync(CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenReadAsync(cancellationToken);
        if (stream is null) return null;
        if (stream.Length > Array.MaxLength) throw new InvalidDataException($"grain state '{name}' of {grain}: {stream.Length} bytes, more than one array holds");
        var data = new byte[stream.Length];
        stream.ReadExactly(data);
        return data;
    }

    /// <summary>
    /// The state as a stream over its chunks (null: none written), every chunk read and the whole verified against the
    /// head's length and SHA-256 before it is returned; no one array of the whole is made.
    /// </summary>
    public async Task<ChunkReadStream?> OpenReadAsync(CancellationToken cancellationToken = default)
    {
        await ReadHeadAsync(cancellationToken);
        if (!_head.RecordExists) return null;
        var head = _head.State!;
        var chunks = new List<byte[]>(); // not sized by the stored head: a damaged one could ask for any count
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long at = 0;
        for (var i = 0; i < head.Chunks; i++)
        {
            // Read from storage every time: the cache keeps each chunk's ETag, never its bytes.
            var chunk = await ChunkAsync(ChunkName(head.Generation, i), read: false, cancellationToken);
            await storage.ReadStateAsync(ChunkName(head.Generation, i), grain, chunk, cancellationToken);
            if (!chunk.RecordExists || at + chunk.State!.Data.Length > head.Length)
            {
                throw new InvalidDataException($"grain state '{name}' of {grain}: chunk {i} of generation {head.Generation} is missing or too long");
            }
            var data = chunk.State!.Data;
            sha.AppendData(data);
            chunks.Add(data);
            at += data.Length;
            chunk.State = new StateChunk();
        }
        var digest = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (at != head.Length || digest != head.Sha256)
        {
            throw new InvalidDataException($"grain state '{name}' of {grain}: {at} of {head.Length} bytes, SHA-256 {digest} instead of {head.Sha256}");
        }
        return new ChunkReadStream(chunks);
    }

    /// <summary>Writes a state already in one array: chunked on the caller's thread (it is all in memory already), then stored.</summary>
    public Task WriteAsync(byte[] data, CancellationToken cancellationToken = default) => WriteAsync(s => s.Write(data), cancellationToken, onThread: false);

    /// <summary>
    /// Writes the state <paramref name="write"/> puts into a stream, serialized once into the chunks it is stored as: the
    /// serializer runs on its own thread and waits while two chunks are on their way to storage, so at most those two are
    /// held here whatever the state's size (the storage keeps its own). The caller's turn waits meanwhile, so what
    /// <paramref name="write"/> reads does not change.
    /// </summary>
    public Task WriteAsync(Action<Stream> write, CancellationToken cancellationToken = default) => WriteAsync(write, cancellationToken, onThread: true);

    private async Task WriteAsync(Action<Stream> write, CancellationToken cancellationToken, bool onThread)
    {
        await ReadHeadAsync(cancellationToken);
        var old = _head.RecordExists ? (_head.State!.Generation, _head.State.Chunks) : (Generation: -1, Chunks: 0);
        var generation = old.Generation + 1;
        var pipe = onThread
            ? Channel.CreateBounded<byte[]>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true })
            : Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        (int Chunks, long Length, string Sha256) Serialize()
        {
            try
            {
                using var stream = new ChunkStream(chunkBytes, chunk =>
                {
                    if (!pipe.Writer.TryWrite(chunk)) pipe.Writer.WriteAsync(chunk, stop.Token).AsTask().GetAwaiter().GetResult();
                });
                write(stream);
                var done = stream.Finish();
                pipe.Writer.TryComplete();
                return done;
            }
            catch (Exception e)
            {
                pipe.Writer.TryComplete(e);
                throw;
            }
        }
        Task<(int Chunks, long Length, string Sha256)> serializer;
        if (onThread)
        {
            serializer = Task.Factory.StartNew(Serialize, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        else
        {
            try
            {
                serializer = Task.FromResult(Serialize());
            }
            catch (Exception e)
            {
                serializer = Task.FromException<(int, long, string)>(e);
            }
        }
        var count = 0;
        try
        {
            await foreach (var data in pipe.Reader.ReadAllAsync(cancellationToken))
            {
                var chunk = await ChunkAsync(ChunkName(generation, count), read: true, cancellationToken);
                chunk.State = new StateChunk { Data = data };
                await storage.WriteStateAsync(ChunkName(generation, count), grain, chunk, cancellationToken);
                chunk.State = new StateChunk();
                count++;
            }
        }
        catch (Exception failure)
        {
            // A storage failure stops the serializer at its next chunk; a serializer's failure is the one to tell. Either
            // way the head still names the previous generation, which stays readable, and the chunks this write stored go.
            await stop.CancelAsync();
            Exception? told = null;
            try
            {
                await serializer;
            }
            catch (Exception e) when (e is not OperationCanceledException && !ReferenceEquals(e, failure))
            {
                told = e;
            }
            catch (Exception)
            {
                // the serializer stopped because of the failure below, or failed with it
            }
            await ForgetAsync(generation, count);
            if (told is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(told);
            throw;
        }
        var (chunks, length, sha) = await serializer;
        if (chunks != count) throw new InvalidOperationException($"grain state '{name}' of {grain}: {chunks} chunks made, {count} stored");
        _head.State = new StateHead { Generation = generation, Chunks = count, Length = length, Sha256 = sha };
        await storage.WriteStateAsync(HeadName, grain, _head, cancellationToken);
        LastWriteBytes = length;
        for (var i = 0; i < old.Chunks; i++)
        {
            // Read first when not held (an earlier activation wrote it): a record never read has no ETag and would be left behind.
            var key = ChunkName(old.Generation, i);
            var chunk = await ChunkAsync(key, read: !_chunks.ContainsKey(key), cancellationToken);
            chunk.State = new StateChunk();
            if (chunk.RecordExists) await storage.ClearStateAsync(key, grain, chunk, cancellationToken);
            _chunks.Remove(key);
        }
    }

    /// <summary>
    /// Clears, as far as storage lets it now, the first <paramref name="count"/> chunks of a generation no head names (a write
    /// that failed midway): the next write of that generation may have fewer, and the rest would stay in storage for good.
    /// </summary>
    private async Task ForgetAsync(int generation, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var key = ChunkName(generation, i);
            if (!_chunks.Remove(key, out var chunk) || !chunk.RecordExists) continue;
            try
            {
                await storage.ClearStateAsync(key, grain, chunk, CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Storage is failing now: the next write of this generation reads the chunk and writes over it.
            }
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
