using Freshet.Model.Serving;

namespace Freshet.Grains.Weights;

/// <summary>
/// The reading side of <see cref="WeightsChannel"/>'s deltas: collects a delta's chunks from the weights stream, in
/// any order and with repeats, and gives back its bytes once every chunk is in. Deltas the replica no longer
/// needs (on another checkpoint, or at or below what it applied) are dropped, so a publish whose chunks never
/// all arrive (its sender failed; the replica reads it from the store instead) does not stay in memory.
/// What it holds is bounded whatever the stream carries: a chunk is at most <see cref="WeightDelta.MaxChunkBytes"/>,
/// a delta at most <see cref="WeightDelta.MaxBytes"/> in at most <see cref="MaxChunks"/> chunks, and all deltas
/// pending together at most <see cref="WeightDelta.MaxBytes"/> in at most <see cref="MaxPending"/> deltas (the
/// lowest go first; a dropped delta is a gap the replica fills from the store). A chunk outside these is refused
/// (<see cref="Refused"/>, with the reason in <see cref="LastRefusal"/>); nothing here throws.
/// </summary>
public sealed class DeltaAssembler
{
    /// <summary>Chunks of one delta, at most: a delta of <see cref="WeightDelta.MaxBytes"/> in the smallest chunks a provider uses (32 KB, Azure queues).</summary>
    public const int MaxChunks = WeightDelta.MaxBytes / (32 * 1024);

    /// <summary>Deltas pending at once, at most (publishes in flight while a replica catches up).</summary>
    public const int MaxPending = 8;

    private readonly Dictionary<WeightsVersion, PendingDelta> _chunks = [];
    private long _bytes;

    /// <summary>Deltas with chunks still missing.</summary>
    public int Pending => _chunks.Count;

    /// <summary>Bytes of the chunks held for deltas still missing some.</summary>
    public long PendingBytes => _bytes;

    /// <summary>Chunks refused since this assembler was made (malformed, too large, or past a bound).</summary>
    public long Refused { get; private set; }

    /// <summary>Why the last chunk was refused, or null.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>Adds a delta chunk; returns the whole delta's bytes when this chunk completes it, else null.</summary>
    public byte[]? Add(WeightMessage chunk)
    {
        if (chunk.Kind != WeightMessageKind.Delta) return null;
        var payload = chunk.Payload ?? [];
        if (chunk.Chunks is < 1 or > MaxChunks || chunk.Chunk < 0 || chunk.Chunk >= chunk.Chunks)
        {
            return Refuse($"delta {chunk.Weights}: chunk {chunk.Chunk} of {chunk.Chunks}; a delta has 1 to {MaxChunks} chunks");
        }
        if (payload.Length > WeightDelta.MaxChunkBytes) return Refuse($"delta {chunk.Weights}: chunk {chunk.Chunk} has {payload.Length} bytes; at most {WeightDelta.MaxChunkBytes}");
        if (!_chunks.TryGetValue(chunk.Weights, out var pending) || pending.Parts.Length != chunk.Chunks)
        {
            if (pending is not null) Remove(chunk.Weights, pending);
            _chunks[chunk.Weights] = pending = new PendingDelta(new byte[]?[chunk.Chunks]);
        }
        if (pending.Parts[chunk.Chunk] is { } repeat)
        {
            pending.Bytes -= repeat.Length;
            _bytes -= repeat.Length;
        }
        if (pending.Bytes + payload.Length > WeightDelta.MaxBytes)
        {
            Remove(chunk.Weights, pending);
            return Refuse($"delta {chunk.Weights}: its chunks add up to more than {WeightDelta.MaxBytes} bytes");
        }
        pending.Parts[chunk.Chunk] = payload;
        pending.Bytes += payload.Length;
        _bytes += payload.Length;
        if (Array.IndexOf(pending.Parts, null) < 0)
        {
            Remove(chunk.Weights, pending);
            if (pending.Parts.Length == 1) return pending.Parts[0];
            var whole = new byte[pending.Bytes];
            var at = 0;
            foreach (var p in pending.Parts)
            {
                p!.CopyTo(whole, at);
                at += p.Length;
            }
            return whole;
        }
        // Over the bounds: the lowest deltas go first, this one too if it is the lowest (the replica finds the gap and reads
        // them from the store).
        while (_chunks.Count > MaxPending || _bytes > WeightDelta.MaxBytes)
        {
            var lowest = _chunks.Keys.Min();
            Remove(lowest, _chunks[lowest]);
        }
        return null;
    }

    /// <summary>Drops the deltas of other checkpoints (serving switched) and those at or below <paramref name="applied"/>.</summary>
    public void Forget(long checkpoint, long applied = 0)
    {
        foreach (var stale in _chunks.Where(k => k.Key.Checkpoint != checkpoint || k.Key.Delta <= applied).ToList()) Remove(stale.Key, stale.Value);
    }

    private void Remove(WeightsVersion version, PendingDelta pending)
    {
        _chunks.Remove(version);
        _bytes -= pending.Bytes;
    }

    private byte[]? Refuse(string why)
    {
        Refused++;
        LastRefusal = why;
        return null;
    }

    private sealed class PendingDelta(byte[]?[] parts)
    {
        public byte[]?[] Parts { get; } = parts;

        public long Bytes { get; set; }
    }
}
