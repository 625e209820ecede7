using System.Runtime.InteropServices;

namespace Freshet.Model.Data;

/// <summary>
/// Samples as bytes (little-endian), to cross grain calls and streams: a header, then each column
/// of the batch as one block (tasks, times, labels, ids, bag lengths and ids, numerics, groups,
/// true probabilities, conversion times, conversion labels, label arrivals). Batches written before label arrivals
/// existed (format 2) still read, as <see cref="LabelArrival.Known"/>.
/// </summary>
public static class SampleCodec
{
    private const int Magic = 0x33534652; // "RFS3": with each label's arrival
    private const int Magic2 = 0x32534652; // "RFS2": with the conversion label of impressions

    public static byte[] Encode(IReadOnlyList<Sample> samples)
    {
        var n = samples.Count;
        var k = n == 0 ? 0 : samples[0].Ids.Length;
        var b = n == 0 ? 0 : samples[0].Bags.Length;
        var m = n == 0 ? 0 : samples[0].Numerics.Length;
        var bagTotal = 0;
        foreach (var s in samples)
        {
            foreach (var bag in s.Bags) bagTotal += bag.Length;
        }
        using var ms = new MemoryStream(64 + n * (1 + 8 + 4 + 8 * k + 4 * b + 4 * m + 1 + 8 + 4 + 8 + 4 + 1) + bagTotal * 8);
        using var w = new BinaryWriter(ms);
        w.Write(Magic);
        w.Write(n);
        w.Write(k);
        w.Write(b);
        w.Write(m);
        w.Write(bagTotal);
        var tasks = new byte[n];
        var times = new long[n];
        var labels = new float[n];
        var ids = new ulong[n * k];
        var lengths = new int[n * b];
        var bagIds = new ulong[bagTotal];
        var numerics = new float[n * m];
        var hasGroup = new byte[n];
        var groups = new ulong[n];
        var truth = new float[n];
        var conversions = new long[n];
        var conversionLabels = new float[n];
        var arrivals = new byte[n];
        var at = 0;
        for (var i = 0; i < n; i++)
        {
            var s = samples[i];
            if (s.Ids.Length != k || s.Bags.Length != b || s.Numerics.Length != m)
            {
                throw new ArgumentException($"sample {i} has another shape than sample 0 (one batch holds samples of one schema)");
            }
            tasks[i] = (byte)s.Task;
            times[i] = s.Time;
            labels[i] = s.Label;
            s.Ids.CopyTo(ids, i * k);
            for (var f = 0; f < b; f++)
            {
                lengths[i * b + f] = s.Bags[f].Length;
                s.Bags[f].CopyTo(bagIds, at);
                at += s.Bags[f].Length;
            }
            s.Numerics.CopyTo(numerics, i * m);
            hasGroup[i] = s.Group is null ? (byte)0 : (byte)1;
            groups[i] = s.Group ?? 0;
            truth[i] = s.TrueProbability;
            conversions[i] = s.ConversionTime;
            conversionLabels[i] = s.ConversionLabel;
            arrivals[i] = (byte)s.Arrival;
        }
        w.Write(tasks);
        w.Write(MemoryMarshal.AsBytes(times.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(labels.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(ids.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(lengths.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(bagIds.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(numerics.AsSpan()));
        w.Write(hasGroup);
        w.Write(MemoryMarshal.AsBytes(groups.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(truth.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(conversions.AsSpan()));
        w.Write(MemoryMarshal.AsBytes(conversionLabels.AsSpan()));
        w.Write(arrivals);
        w.Flush();
        return ms.ToArray();
    }

    public static List<Sample> Decode(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data);
        var magic = r.Int();
        if (magic != Magic && magic != Magic2) throw new InvalidDataException("not a Freshet sample batch (bad magic)");
        int n = r.Int(), k = r.Int(), b = r.Int(), m = r.Int(), bagTotal = r.Int();
        if (n < 0 || k < 0 || b < 0 || m < 0 || bagTotal < 0) throw new InvalidDataException("sample batch header is inconsistent");
        var tasks = r.Block<byte>(n);
        var times = r.Block<long>(n);
        var labels = r.Block<float>(n);
        var ids = r.Block<ulong>(n * k);
        var lengths = r.Block<int>(n * b);
        var bagIds = r.Block<ulong>(bagTotal);
        var numerics = r.Block<float>(n * m);
        var hasGroup = r.Block<byte>(n);
        var groups = r.Block<ulong>(n);
        var truth = r.Block<float>(n);
        var conversions = r.Block<long>(n);
        var conversionLabels = r.Block<float>(n);
        var arrivals = magic == Magic ? r.Block<byte>(n) : default;
        var result = new List<Sample>(n);
        var at = 0;
        for (var i = 0; i < n; i++)
        {
            var bags = new ulong[b][];
            for (var f = 0; f < b; f++)
            {
                var len = lengths[i * b + f];
                bags[f] = bagIds.Slice(at, len).ToArray();
                at += len;
            }
            result.Add(new Sample
            {
                Task = (TaskKind)tasks[i],
                Time = times[i],
                Label = labels[i],
                Ids = ids.Slice(i * k, k).ToArray(),
                Bags = bags,
                Numerics = numerics.Slice(i * m, m).ToArray(),
                Group = hasGroup[i] != 0 ? groups[i] : null,
                TrueProbability = truth[i],
                ConversionTime = conversions[i],
                ConversionLabel = conversionLabels[i],
                Arrival = arrivals.IsEmpty ? LabelArrival.Known : Arrival(arrivals[i]),
            });
        }
        return result;
    }

    private static LabelArrival Arrival(byte value) => value <= (byte)LabelArrival.Late
        ? (LabelArrival)value
        : throw new InvalidDataException($"sample batch has label arrival {value}, which is not one (0 known, 1 provisional, 2 late)");

    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public int Int() => MemoryMarshal.Read<int>(Take(4));

        public ReadOnlySpan<T> Block<T>(int count) where T : unmanaged => MemoryMarshal.Cast<byte, T>(Take(count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));

        private ReadOnlySpan<byte> Take(int bytes)
        {
            if (bytes < 0 || _at + bytes > _data.Length) throw new InvalidDataException("sample batch ends early (truncated)");
            var s = _data.Slice(_at, bytes);
            _at += bytes;
            return s;
        }
    }
}
