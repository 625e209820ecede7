using System.Runtime.InteropServices;

namespace Freshet.Model.Checkpoints;

/// <summary>
/// Reading blocks whose sizes a file or message declares, without trusting them: a size is checked against the bytes
/// the stream still holds before anything is allocated, and where a stream cannot tell, what is allocated grows with
/// what actually arrives.
/// </summary>
public static class StreamBlocks
{
    /// <summary>Bytes allocated first when the stream cannot say its length; the array then doubles as bytes arrive.</summary>
    private const int Step = 64 * 1024;

    /// <summary>Bytes read or written through one span at most.</summary>
    private const int Slice = 1 << 28;

    /// <summary>Every value of <paramref name="values"/> into <paramref name="w"/>, in slices of at most 256 MB (an array may hold more bytes than a span says).</summary>
    internal static void Write<T>(BinaryWriter w, T[] values) where T : unmanaged
    {
        var perSlice = Slice / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        for (var at = 0; at < values.Length; at += perSlice) w.Write(MemoryMarshal.AsBytes(values.AsSpan(at, Math.Min(perSlice, values.Length - at))));
    }

    /// <summary>Bytes left in <paramref name="stream"/> when it can tell (a file, a blob, a memory stream, a checkpoint file being hashed), else null.</summary>
    public static long? Remaining(Stream stream) => stream switch
    {
        HashingReadStream h => h.Remaining,
        { CanSeek: true } => stream.Length - stream.Position,
        _ => null,
    };

    /// <summary>
    /// Every byte of <paramref name="stream"/>, when there are at most <paramref name="max"/>: a file or blob that is
    /// larger (a manifest, a schema, a retained delta) is refused with a <see cref="CheckpointException"/> naming
    /// <paramref name="where"/> before more than that is read.
    /// </summary>
    public static async Task<byte[]> ReadAllAsync(Stream stream, int max, string where, CancellationToken cancellationToken = default)
    {
        if (Remaining(stream) is { } known && known > max) throw new CheckpointException($"{where}: {known} bytes, over the {max} it may have");
        using var ms = new MemoryStream();
        var buffer = new byte[81_920];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (ms.Length + read > max) throw new CheckpointException($"{where}: over the {max} bytes it may have");
            ms.Write(buffer, 0, read);
        }
        return ms.ToArray();
    }

    /// <summary>
    /// <paramref name="count"/> values read from <paramref name="stream"/>. The caller has checked the count against
    /// <see cref="Remaining"/> where it is known; where it is not, the array grows as the bytes arrive, so a count that
    /// is a lie costs at most twice what the stream held. Null when the stream ends first.
    /// </summary>
    internal static T[]? Read<T>(Stream stream, int count) where T : unmanaged
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (Remaining(stream) is not null || (long)count * size <= Step)
        {
            // In slices: a column of more than 2 GB (50 million rows of 16 floats) is more bytes than one span can say.
            var values = new T[count];
            var perSlice = Slice / size;
            for (var first = 0; first < count; first += perSlice)
            {
                var bytes = MemoryMarshal.AsBytes(values.AsSpan(first, Math.Min(perSlice, count - first)));
                if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length) return null;
            }
            return values;
        }
        var grown = new T[Math.Min(count, Step / size)];
        var at = 0;
        while (at < count)
        {
            if (at == grown.Length) Array.Resize(ref grown, (int)Math.Min(count, 2L * grown.Length));
            var into = MemoryMarshal.AsBytes(grown.AsSpan(at, Math.Min(grown.Length, count) - at));
            if (stream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) != into.Length) return null;
            at += into.Length / size;
        }
        if (grown.Length != count) Array.Resize(ref grown, count);
        return grown;
    }

    /// <summary>
    /// Of <paramref name="count"/> rows of <paramref name="width"/> values each, the rows at <paramref name="kept"/> (ascending),
    /// read through a buffer of at most 1 MB: the rows left out are read past, never held. Null when the stream ends first.
    /// </summary>
    internal static T[]? ReadRows<T>(Stream stream, int count, int width, int[] kept) where T : unmanaged
    {
        var values = new T[(long)kept.Length * width];
        if (width == 0) return values;
        var rowsPerBuffer = Math.Max(1, (1 << 20) / (width * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        var buffer = System.Buffers.ArrayPool<T>.Shared.Rent(rowsPerBuffer * width);
        try
        {
            var next = 0;
            for (var start = 0; start < count; start += rowsPerBuffer)
            {
                var rows = Math.Min(rowsPerBuffer, count - start);
                var into = MemoryMarshal.AsBytes(buffer.AsSpan(0, rows * width));
                if (stream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) != into.Length) return null;
                for (; next < kept.Length && kept[next] < start + rows; next++)
                {
                    buffer.AsSpan((kept[next] - start) * width, width).CopyTo(values.AsSpan(next * width, width));
                }
            }
            return values;
        }
        finally
        {
            System.Buffers.ArrayPool<T>.Shared.Return(buffer);
        }
    }
}
