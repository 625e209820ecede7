using Freshet.Model.Data;
using Xunit.Abstractions;

namespace Freshet.Model.Tests;

/// <summary><see cref="SampleCodec.Decode"/> on random and mutated batches: <see cref="InvalidDataException"/> or samples, never more memory than the batch's length allows.</summary>
public class SampleCodecPropertyTests(ITestOutputHelper output)
{
    /// <summary>Allocation per byte of batch: a sample's objects (the sample, its arrays and their headers) against its fixed 39 bytes and its ids.</summary>
    public const long BytesPerByte = 16;

    internal static Sample Make(int i, int ids, int bags, int numerics) => new()
    {
        Task = i % 2 == 0 ? TaskKind.Ctr : TaskKind.Cvr, Time = 638_000_000_000_000_000 + i, Label = i % 3 == 0 ? 1 : 0,
        Ids = [.. Enumerable.Range(0, ids).Select(x => (ulong)(x * 31 + i))],
        Bags = [.. Enumerable.Range(0, bags).Select(f => Enumerable.Range(0, (i + f) % 4).Select(x => (ulong)(x + f)).ToArray())],
        Numerics = [.. Enumerable.Range(0, numerics).Select(x => x * 0.5f)], Group = i % 2 == 0 ? (ulong)i : null, Arrival = (LabelArrival)(i % 3),
    };

    internal static Sample WithAges(Sample s)
    {
        s.Ages = [.. s.Bags.Select(b => b.Select((_, j) => 60f * j).ToArray())];
        return s;
    }

    internal static byte[][] ValidBatches()
    {
        var batches = new List<byte[]>
        {
            SampleCodec.Encode([]),
            SampleCodec.Encode([Make(0, 3, 2, 1)]),
            SampleCodec.Encode([.. Enumerable.Range(0, 5).Select(i => Make(i, 4, 3, 2))]),
            SampleCodec.Encode([.. Enumerable.Range(0, 3).Select(i => Make(i, 0, 1, 0))]),
        };
        // Format 4: with the ages of the bags' values (sequence fields).
        batches.Add(SampleCodec.Encode([.. Enumerable.Range(0, 4).Select(i => Make(i, 2, 2, 1) is var s ? WithAges(s) : s)]));
        // Format 2: the same blocks without the arrivals, under its own magic ("RFS2").
        var old = SampleCodec.Encode([.. Enumerable.Range(0, 2).Select(i => Make(i, 2, 1, 1) is var s ? s.Relabelled(s.Label, LabelArrival.Known, 0) : s)])[..^2];
        BitConverter.GetBytes(0x32534652).CopyTo(old, 0);
        batches.Add(old);
        return [.. batches];
    }

    [Fact]
    public void Random_and_mutated_batches_fail_with_an_invalid_data_error_and_cost_no_more_than_their_length()
    {
        foreach (var valid in ValidBatches()) Assert.NotNull(SampleCodec.Decode(valid));
        DecoderProperty.Holds<InvalidDataException>(output, "SampleCodec.Decode", DecoderProperty.Payloads(ValidBatches()),
            bytes => SampleCodec.Decode(bytes), "sample batch", BytesPerByte, 4096);
    }

    [Fact]
    public void A_batch_claiming_one_sample_of_two_to_the_thirty_bags_is_refused_before_it_allocates()
    {
        // 63 bytes: a header of 1 sample with 2^30 bags and no bag ids, then the fixed columns. Before the check, 2^30 * 4
        // bytes of bag lengths wrapped to 0 in 32 bits, the length check passed, and 8 GiB of bag references were asked for.
        var bytes = new byte[63];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), 0x33534652);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), 1);
        BitConverter.TryWriteBytes(bytes.AsSpan(12), 1 << 30);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => SampleCodec.Decode(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "refused before the bags were allocated");
        Assert.Contains("bags 1073741824", e.Message);
        Assert.Contains("has 63", e.Message);
    }

    [Fact]
    public void A_task_that_is_not_one_is_named()
    {
        var bytes = SampleCodec.Encode([Make(0, 1, 1, 1)]);
        bytes[24] = 9; // the first task
        var e = Assert.Throws<InvalidDataException>(() => SampleCodec.Decode(bytes));
        Assert.Contains("sample 0 has task 9", e.Message);
    }
}
