using Freshet.Model.Data;

namespace Freshet.Model.Tests;

public class SampleCodecTests
{
    private static Sample Make(LabelArrival arrival, float label) => new()
    {
        Task = TaskKind.Cvr, Time = 1234, Label = label, Ids = [7, 8], Bags = [[1, 2, 3]], Numerics = [0.5f], Group = 9, ConversionTime = label > 0 ? 2000 : 0, Arrival = arrival,
    };

    [Fact]
    public void Label_arrivals_cross_the_wire_and_batches_written_before_them_read_as_known()
    {
        var samples = new[] { Make(LabelArrival.Known, 1), Make(LabelArrival.Provisional, 0), Make(LabelArrival.Late, 1) };
        var bytes = SampleCodec.Encode(samples);
        var back = SampleCodec.Decode(bytes);
        Assert.Equal(samples.Select(s => (s.Arrival, s.Label, s.ConversionTime, s.Bags[0].Length)), back.Select(s => (s.Arrival, s.Label, s.ConversionTime, s.Bags[0].Length)));

        // Format 2: the same blocks without the arrivals, under its own magic ("RFS2").
        var old = bytes[..^samples.Length];
        BitConverter.GetBytes(0x32534652).CopyTo(old, 0);
        Assert.All(SampleCodec.Decode(old), s => Assert.Equal(LabelArrival.Known, s.Arrival));

        var bad = (byte[])bytes.Clone();
        bad[^1] = 7;
        var e = Assert.Throws<InvalidDataException>(() => SampleCodec.Decode(bad));
        Assert.Contains("label arrival 7", e.Message);
    }

    [Fact]
    public void The_ages_of_sequence_values_cross_the_wire_and_a_batch_without_them_stays_in_the_format_before()
    {
        var withAges = Make(LabelArrival.Known, 1);
        withAges.Ages = [[30f, 20f, 10f]];
        var without = Make(LabelArrival.Known, 0);
        var back = SampleCodec.Decode(SampleCodec.Encode([withAges, without]));
        Assert.Equal([30f, 20f, 10f], back[0].Ages![0]);
        Assert.Equal([0f, 0f, 0f], back[1].Ages![0]); // not known: 0, aligned with its bag
        Assert.Equal(0x33534652, BitConverter.ToInt32(SampleCodec.Encode([without]), 0)); // "RFS3": no ages, no cost
        Assert.Null(SampleCodec.Decode(SampleCodec.Encode([without]))[0].Ages);

        var bytes = SampleCodec.Encode([withAges]);
        BitConverter.GetBytes(-5f).CopyTo(bytes, bytes.Length - 4);
        var e = Assert.Throws<InvalidDataException>(() => SampleCodec.Decode(bytes));
        Assert.Contains("age -5", e.Message);
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, bytes.Length - 4);
        Assert.Throws<InvalidDataException>(() => SampleCodec.Decode(bytes));
    }
}
