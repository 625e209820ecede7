using System.Runtime.CompilerServices;

namespace Freshet.Model.Hashing;

/// <summary>
/// Maps a token to a 64-bit id. Tables are keyed by the full 64 bits (no modulo), so two tokens
/// share a row only on a true 64-bit collision (about one in 2^64 per pair).
/// </summary>
public static class IdHasher
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Hash(ReadOnlySpan<char> token)
    {
        var h = FnvOffset;
        foreach (var c in token)
        {
            h ^= c;
            h *= FnvPrime;
        }
        return Mix(h ^ (ulong)token.Length);
    }

    /// <summary>A strong 64-bit finalizer (MurmurHash3 fmix64): spreads every input bit over the output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }

    /// <summary>A 64-bit seed for a table's name, so the same id gets different initial rows in different tables.</summary>
    public static ulong TableSalt(string table) => Hash(table) * 0x9E3779B97F4A7C15UL;
}
