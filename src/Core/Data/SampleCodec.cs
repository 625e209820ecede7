using System.Runtime.InteropServices;

namespace Freshet.Model.Data;

/// <summary>
/// Samples as bytes (little-endian), to cross grain calls and streams: a header, then each column
/// of the batch as one block (tasks, times, labels, ids, bag lengths and ids, numerics, groups,
/// true probabilities, conversion times, conversion labels, label arrivals, and, where any sample carries them, the bag
/// values' ages). Batches written before label arrivals existed (format 2) still read, as <see cref="LabelArrival.Known"/>.
/// </summary>
public static class SampleCodec
{
    private const int Magic4 = 0x34534652; // "RFS4": with the ages of bag values (sequence fields)
    private const int Magic = 0x33534652; // "RFS3": with each label's arrival
    private const int Magic2 = 0x32534652; // "RFS2": with the conversion label of impressions

    public static byte[] Encode(IReadOnlyList<Sample> samples)
    {
        var n = samples.Count;
        var k = n == 0 ? 0 : samples[0].Ids.Length;
        var b = n == 0 ? 0 : samples[0].Bags.Length;
        var m = n == 0 ? 0 : samples[0].Numerics.Length;
        var bagTotal = 0;
        var withAges = false;
        foreach (var s in samples)
        {
            foreach (var bag in s.Bags) bagTotal += bag.Length;
            withAges |= s.Ages is not null;
        }
        using var ms = new MemoryStream(64 + n * (1 + 8 + 4 + 8 * k + 4 * b + 4 * m + 1 + 8 + 4 + 8 + 4 + 1) + bagTotal * (withAges ? 12 : 8));
        using var w = new BinaryWriter(ms);
        w.Write(withAges ? Magic4 : Magic);
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
        var ages = withAges ? new float[bagTotal] : [];
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
                if (withAges && s.Ages is { } sampleAges && f < sampleAges.Length && sampleAges[f] is { } bagAges)
                {
                    bagAges.AsSpan(0, Math.Min(bagAges.Length, s.Bags[f].Length)).CopyTo(ages.AsSpan(at));
                }
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
        if (withAges) w.Write(MemoryMarshal.AsBytes(ages.AsSpan()));
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>Bytes of the header: magic, then sample count, ids, bags and numerics per sample, and the bag ids in all.</summary>
    private const int HeaderBytes = 6 * sizeof(int);

    /// <summary>Bytes every sample takes in the columns whatever its shape (task, time, label, group flag and value, truth, conversion time and label, arrival).</summary>
    private const int FixedBytesPerSample = 1 + 8 + 4 + 1 + 8 + 4 + 8 + 4 + 1;

    /// <summary>
    /// Reads a batch <see cref="Encode"/> wrote. Every size in the header is checked against the bytes there are before
    /// anything is allocated, so what a batch costs to read is bounded by its length (at most about 16 bytes per byte
    /// read, plus a constant: <c>SampleCodecPropertyTests</c> holds it to that), whatever its header claims.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a whole, consistent batch: the message names the field
    /// (magic, a count, a bag length, a task, a label arrival), its value and the sizes involved.</exception>
    public static List<Sample> Decode(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data);
        if (data.Length < HeaderBytes)
        {
            throw new InvalidDataException($"sample batch: {data.Length} bytes, shorter than its {HeaderBytes}-byte header (truncated, or not a sample batch)");
        }
        var magic = r.Int();
        if (magic != Magic4 && magic != Magic && magic != Magic2)
        {
            throw new InvalidDataException($"sample batch: not a Freshet sample batch (magic 0x{magic:X8}; expected 0x{Magic4:X8}, 0x{Magic:X8} or 0x{Magic2:X8})");
        }
        var withAges = magic == Magic4;
        int n = r.Int(), k = r.Int(), b = r.Int(), m = r.Int(), bagTotal = r.Int();
        if (n < 0 || k < 0 || b < 0 || m < 0 || bagTotal < 0)
        {
            throw new InvalidDataException($"sample batch: a negative count in the header (samples {n}, ids {k}, bags {b}, numerics {m}, bag ids {bagTotal})");
        }
        // In 128 bits: counts from the wire multiplied in 32 bits wrap around (1 sample of 2^30 bags "needs" 0 bytes), and
        // two counts near 2^31 times 8 bytes overflow 64.
        var fixedBytes = FixedBytesPerSample - (magic == Magic2 ? 1 : 0);
        var needed = HeaderBytes + (Int128)n * fixedBytes + (Int128)n * k * sizeof(ulong) + (Int128)n * b * sizeof(int)
            + (Int128)bagTotal * (sizeof(ulong) + (withAges ? sizeof(float) : 0)) + (Int128)n * m * sizeof(float);
        if (needed != data.Length)
        {
            throw new InvalidDataException(
                $"sample batch: the header (samples {n}, ids {k}, bags {b}, numerics {m}, bag ids {bagTotal}) needs {needed} bytes, the batch has {data.Length}: it is truncated, padded or its header is wrong");
        }
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
        var arrivals = magic != Magic2 ? r.Block<byte>(n) : default;
        var ages = withAges ? r.Block<float>(bagTotal) : default;
        for (var i = 0; i < ages.Length; i++)
        {
            if (!(ages[i] >= 0) || float.IsInfinity(ages[i])) throw new InvalidDataException($"sample batch: bag value {i} has age {ages[i]} s, which is not a time since (finite, 0 or more)");
        }
        long lengthSum = 0;
        for (var i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] < 0) throw new InvalidDataException($"sample batch: sample {i / Math.Max(1, b)}, bag {i % Math.Max(1, b)} has length {lengths[i]}");
            lengthSum += lengths[i];
        }
        if (lengthSum != bagTotal)
        {
            throw new InvalidDataException($"sample batch: the bag lengths add up to {lengthSum} ids, the header says {bagTotal}");
        }
        for (var i = 0; i < n; i++)
        {
            if (tasks[i] > (byte)TaskKind.Cvr) throw new InvalidDataException($"sample batch: sample {i} has task {tasks[i]}, which is not one (0 ctr, 1 cvr)");
            if (!arrivals.IsEmpty && arrivals[i] > (byte)LabelArrivals.Last)
            {
                throw new InvalidDataException($"sample batch: sample {i} has label arrival {arrivals[i]}, which is not one (0 known, 1 provisional, 2 late, 3 immediate, 4 duplicate)");
            }
        }
        var result = new List<Sample>(n);
        var at = 0;
        for (var i = 0; i < n; i++)
        {
            var bags = new ulong[b][];
            var sampleAges = withAges ? new float[b][] : null;
            for (var f = 0; f < b; f++)
            {
                var len = lengths[i * b + f];
                bags[f] = bagIds.Slice(at, len).ToArray();
                if (sampleAges is not null) sampleAges[f] = ages.Slice(at, len).ToArray();
                at += len;
            }
            result.Add(new Sample
            {
                Task = (TaskKind)tasks[i],
                Time = times[i],
                Label = labels[i],
                Ids = ids.Slice(i * k, k).ToArray(),
                Bags = bags,
                Ages = sampleAges,
                Numerics = numerics.Slice(i * m, m).ToArray(),
                Group = hasGroup[i] != 0 ? groups[i] : null,
                TrueProbability = truth[i],
                ConversionTime = conversions[i],
                ConversionLabel = conversionLabels[i],
                Arrival = arrivals.IsEmpty ? LabelArrival.Known : (LabelArrival)arrivals[i],
            });
        }
        return result;
    }

    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public int Int() => MemoryMarshal.Read<int>(Take(4));

        /// <summary>The next <paramref name="count"/> values; the caller has checked the batch's length covers them all.</summary>
        public ReadOnlySpan<T> Block<T>(int count) where T : unmanaged => MemoryMarshal.Cast<byte, T>(Take(checked(count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>())));

        private ReadOnlySpan<byte> Take(int bytes)
        {
            if (bytes < 0 || bytes > _data.Length - _at) throw new InvalidDataException($"sample batch: ends early (needs {bytes} more bytes at byte {_at} of {_data.Length})");
            var s = _data.Slice(_at, bytes);
            _at += bytes;
            return s;
        }
    }
}
