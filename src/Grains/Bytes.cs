using System.Runtime.InteropServices;

namespace Freshet.Grains;

/// <summary>Numeric blocks as little-endian bytes on the wire (DESIGN.md section 4).</summary>
internal static class Bytes
{
    public static byte[] Of<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();

    public static ReadOnlySpan<T> As<T>(byte[] bytes) where T : unmanaged => MemoryMarshal.Cast<byte, T>(bytes);

    public static T[] ToArray<T>(byte[] bytes) where T : unmanaged => MemoryMarshal.Cast<byte, T>(bytes).ToArray();
}
