using System.Buffers.Binary;

namespace Freshet.Model.Cluster;

/// <summary>Pending rate events on the wire: records of int32 position, int64 time, float64 positives, float64 samples (little-endian).</summary>
public static class RateEventCodec
{
    private const int RecordBytes = sizeof(int) + sizeof(long) + 2 * sizeof(double);

    public static byte[] Write(IReadOnlyList<(int Position, long Time, double Positives, double Samples)> events)
    {
        var bytes = new byte[events.Count * RecordBytes];
        var span = bytes.AsSpan();
        for (var i = 0; i < events.Count; i++)
        {
            var at = span.Slice(i * RecordBytes, RecordBytes);
            BinaryPrimitives.WriteInt32LittleEndian(at, events[i].Position);
            BinaryPrimitives.WriteInt64LittleEndian(at[4..], events[i].Time);
            BinaryPrimitives.WriteDoubleLittleEndian(at[12..], events[i].Positives);
            BinaryPrimitives.WriteDoubleLittleEndian(at[20..], events[i].Samples);
        }
        return bytes;
    }

    public static void Read(ReadOnlySpan<byte> bytes, Action<int, long, double, double> each)
    {
        if (bytes.Length % RecordBytes != 0) throw new InvalidDataException($"pending rate events: {bytes.Length} bytes is not a whole number of {RecordBytes}-byte records");
        for (var at = 0; at < bytes.Length; at += RecordBytes)
        {
            var r = bytes.Slice(at, RecordBytes);
            each(BinaryPrimitives.ReadInt32LittleEndian(r), BinaryPrimitives.ReadInt64LittleEndian(r[4..]), BinaryPrimitives.ReadDoubleLittleEndian(r[12..]), BinaryPrimitives.ReadDoubleLittleEndian(r[20..]));
        }
    }
}
