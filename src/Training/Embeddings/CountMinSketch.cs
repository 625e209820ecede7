using Freshet.Model.Hashing;

namespace Freshet.Model.Embeddings;

/// <summary>
/// Bounded-memory occurrence counts: it never under-counts, and over-counts only on collisions. Counters
/// are bytes (saturating at 255): admission thresholds are small.
/// </summary>
public sealed class CountMinSketch(int depth = 4, int widthBits = 18)
{
    private readonly byte[] _counts = new byte[depth << widthBits];
    private readonly int _mask = (1 << widthBits) - 1;

    public int Depth { get; } = depth;

    public int WidthBits { get; } = widthBits;

    public int Width => 1 << WidthBits;

    public long Bytes => _counts.Length;

    /// <summary>Adds <paramref name="count"/> occurrences and returns the new estimate.</summary>
    public int Add(ulong id, int count)
    {
        var min = int.MaxValue;
        var h = id;
        for (var d = 0; d < Depth; d++)
        {
            h = IdHasher.Mix(h + (ulong)d * 0x9E3779B97F4A7C15UL);
            var i = (d << WidthBits) | (int)(h & (ulong)_mask);
            var c = Math.Min(byte.MaxValue, _counts[i] + count);
            _counts[i] = (byte)c;
            min = Math.Min(min, c);
        }
        return min;
    }

    /// <summary>The estimate of an id's occurrences, without adding any.</summary>
    public int Estimate(ulong id)
    {
        var min = int.MaxValue;
        var h = id;
        for (var d = 0; d < Depth; d++)
        {
            h = IdHasher.Mix(h + (ulong)d * 0x9E3779B97F4A7C15UL);
            min = Math.Min(min, _counts[(d << WidthBits) | (int)(h & (ulong)_mask)]);
        }
        return min;
    }

    public void Clear() => Array.Clear(_counts);
}
