using Freshet.Model.Hashing;

namespace Freshet.Model.Embeddings;

/// <summary>
/// Bounded-memory occurrence counts for the admission filter: it never under-counts, and
/// over-counts only on collisions, so an id is admitted at or slightly before its minimum count.
/// </summary>
public sealed class CountMinSketch(int depth = 4, int widthBits = 18)
{
    private readonly ushort[] _counts = new ushort[depth << widthBits];
    private readonly int _mask = (1 << widthBits) - 1;

    public int Depth { get; } = depth;

    public int WidthBits { get; } = widthBits;

    public long Bytes => _counts.Length * sizeof(ushort);

    /// <summary>Adds <paramref name="count"/> occurrences and returns the new estimate.</summary>
    public int Add(ulong id, int count)
    {
        var min = int.MaxValue;
        var h = id;
        for (var d = 0; d < Depth; d++)
        {
            h = IdHasher.Mix(h + (ulong)d * 0x9E3779B97F4A7C15UL);
            var i = (d << WidthBits) | (int)(h & (ulong)_mask);
            var c = Math.Min(ushort.MaxValue, _counts[i] + count);
            _counts[i] = (ushort)c;
            min = Math.Min(min, c);
        }
        return min;
    }
}
