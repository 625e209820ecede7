using Freshet.Model.Serving;

namespace Freshet.Grains.Weights;

/// <summary>
/// The reading side of <see cref="WeightsChannel"/>'s deltas: collects a delta's chunks from the weights stream, in
/// any order and with repeats, and gives back its bytes once every chunk is in. Deltas the replica no longer
/// needs (on another checkpoint, or at or below what it applied) are dropped, so a publish whose chunks never
/// all arrive (its sender failed; the replica reads it from the store instead) does not stay in memory.
/// </summary>
public sealed class DeltaAssembler
{
    private readonly Dictionary<WeightsVersion, byte[]?[]> _chunks = [];

    /// <summary>Deltas with chunks still missing.</summary>
    public int Pending => _chunks.Count;

    /// <summary>Adds a delta chunk; returns the whole delta's bytes when this chunk completes it, else null.</summary>
    public byte[]? Add(WeightMessage chunk)
    {
        if (chunk.Kind != WeightMessageKind.Delta || chunk.Chunks < 1 || chunk.Chunk < 0 || chunk.Chunk >= chunk.Chunks) return null;
        if (!_chunks.TryGetValue(chunk.Weights, out var parts) || parts.Length != chunk.Chunks) _chunks[chunk.Weights] = parts = new byte[]?[chunk.Chunks];
        parts[chunk.Chunk] = chunk.Payload;
        if (Array.IndexOf(parts, null) >= 0) return null;
        _chunks.Remove(chunk.Weights);
        if (parts.Length == 1) return parts[0];
        var whole = new byte[parts.Sum(p => p!.Length)];
        var at = 0;
        foreach (var p in parts)
        {
            p!.CopyTo(whole, at);
            at += p.Length;
        }
        return whole;
    }

    /// <summary>Drops the deltas of other checkpoints (serving switched) and those at or below <paramref name="applied"/>.</summary>
    public void Forget(long checkpoint, long applied = 0)
    {
        foreach (var stale in _chunks.Keys.Where(k => k.Checkpoint != checkpoint || k.Delta <= applied).ToList()) _chunks.Remove(stale);
    }
}
