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
}
