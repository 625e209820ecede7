using Freshet.Grains.Weights;
using System.Text;
using CsCheck;
using Freshet.Grains.Parameters;
using Freshet.Grains.Streaming;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Serving;
using Freshet.Parameters;
using Freshet.Samples;
using Xunit.Abstractions;

namespace Freshet.Cluster.Tests;

/// <summary>
/// The grains' decoders of what arrives, on random and mutated input: the labels hub's and the samples hubs' plain JSON,
/// prediction ids as applications hand them back, the weights stream's chunks, and a grain's configuration in its state.
/// </summary>
public class WireDecoderPropertyTests(ITestOutputHelper output)
{
    /// <summary>What a decoder that never throws would throw: nothing may escape it.</summary>
    private sealed class NothingEscapes : Exception;

    private static readonly SampleRouting Routing = new(new Dictionary<string, int> { ["shop-main"] = 2 });

    [Fact]
    public void Random_and_mutated_label_events_are_read_or_refused_row_by_row_and_never_throw()
    {
        var valid = JsonLabelFormat.Write([
            new FeedbackLabel { Prediction = PredictionId.New("shop", 4), Event = FeedbackEvent.Click, Time = new DateTime(2026, 12, 5, 10, 0, 0, DateTimeKind.Utc) },
            new FeedbackLabel { Prediction = PredictionId.New("shop", 4), Event = FeedbackEvent.Conversion, Time = new DateTime(2026, 12, 5, 11, 0, 0, DateTimeKind.Utc) },
        ]);
        Assert.Equal(2, JsonLabelFormat.Read(valid).Labels.Count);
        DecoderProperty.Holds<NothingEscapes>(output, "JsonLabelFormat.Read", DecoderProperty.Payloads([valid, Encoding.UTF8.GetBytes("""{"predictionId":"shop/1/0123456789abcdef0123456789abcdef","event":"click","time":"2026-12-05T10:00:00Z"}""")]),
            bytes => JsonLabelFormat.Read(bytes), "", 64, 64 * 1024);
    }

    [Fact]
    public void Random_and_mutated_sample_events_are_read_or_refused_row_by_row_and_never_throw()
    {
        var valid = JsonSampleFormat.Write("shop-main", 1, TaskKind.Ctr, [
            new RawSample { Time = new DateTime(2026, 11, 28, 10, 0, 0, DateTimeKind.Utc).Ticks, Label = 1, Fields = new() { ["user"] = "u1", ["price"] = "12.5" } },
            new RawSample { Time = new DateTime(2026, 11, 28, 10, 0, 1, DateTimeKind.Utc).Ticks, Label = 0, Fields = new() { ["user"] = "u2" }, Index = 1 },
        ]);
        Assert.Equal(2, JsonSampleFormat.Read(valid, TaskKind.Ctr, "k", 1, Routing).Rows.Count);
        var unix = Encoding.UTF8.GetBytes("""{"job":"shop-main","time":1795860000,"label":true,"fields":{"user":"u1","promo":false,"n":null}}""");
        DecoderProperty.Holds<NothingEscapes>(output, "JsonSampleFormat.Read", DecoderProperty.Payloads([valid, unix]),
            bytes => JsonSampleFormat.Read(bytes, TaskKind.Cvr, "key", 7, Routing), "", 64, 64 * 1024);
    }

    [Fact]
    public void Random_and_mutated_prediction_ids_parse_or_not_and_never_throw()
    {
        var valid = Encoding.UTF8.GetBytes(PredictionId.New("shop-main", 16).ToString());
        DecoderProperty.Holds<NothingEscapes>(output, "PredictionId.TryParse", DecoderProperty.Payloads([valid], 128),
            bytes => PredictionId.TryParse(Encoding.UTF8.GetString(bytes), out _), "", 8, 4 * 1024);
    }

    [Fact]
    public void Random_and_mutated_grain_configurations_fail_with_an_invalid_data_error()
    {
        var valid = ShardConfigCodec.Write(new ShardConfig { Model = "shop", SchemaJson = "{}", Shard = 1, Shards = 4, PersistInterval = TimeSpan.FromSeconds(30) }, [1, 2, 3]);
        Assert.Equal("shop", ShardConfigCodec.Read(valid, out var offset).Model);
        Assert.Equal(valid.Length - 3, offset);
        DecoderProperty.Holds<InvalidDataException>(output, "ShardConfigCodec.Read", DecoderProperty.Payloads([valid]),
            bytes => ShardConfigCodec.Read(bytes, out _), "grain state", 8, 16 * 1024);
    }

    private static WeightMessage Chunk(long delta, int chunk, int chunks, int length) => new()
    {
        Kind = WeightMessageKind.Delta, Model = "m", Weights = new WeightsVersion(1, delta), Chunk = chunk, Chunks = chunks, Payload = new byte[length],
    };

    [Fact]
    public void Random_chunk_streams_never_throw_and_hold_no_more_than_the_bounds()
    {
        // Messages of a few versions, with chunk numbers and counts from plausible to absurd, and payloads up to past the chunk limit.
        var counts = Gen.Frequency((60, Gen.Int[1, 4]), (4, Gen.Int[-2, int.MaxValue]), (1, Gen.Const(DeltaAssembler.MaxChunks)), (1, Gen.Const(DeltaAssembler.MaxChunks + 1)));
        // Payloads past the chunk limit are rare: each is almost a megabyte the generator itself allocates.
        var message = Gen.Select(Gen.Long[1, 12], Gen.Int[-1, 5], counts, Gen.Frequency((200, Gen.Int[0, 64]), (1, Gen.Const(WeightDelta.MaxChunkBytes + 1))))
            .Select(m => Chunk(m.Item1, m.Item2, m.Item3, m.Item4));
        DecoderProperty.Holds<WeightMessage[], NothingEscapes>(output, "DeltaAssembler.Add", message.Array[1, 40],
            messages =>
            {
                var assembler = new DeltaAssembler();
                foreach (var m in messages)
                {
                    assembler.Add(m);
                    if (assembler.Pending > DeltaAssembler.MaxPending || assembler.PendingBytes > WeightDelta.MaxBytes)
                    {
                        throw new InvalidOperationException($"the assembler holds {assembler.Pending} deltas, {assembler.PendingBytes} bytes");
                    }
                }
            },
            messages => messages.Sum(m => (long)m.Payload.Length), "", 2, 8L * DeltaAssembler.MaxChunks * DeltaAssembler.MaxPending + 64 * 1024);
    }

    [Fact]
    public void A_chunk_claiming_two_to_the_twenty_eight_chunks_is_refused_before_it_allocates()
    {
        var assembler = new DeltaAssembler();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(assembler.Add(Chunk(1, 0, 1 << 28, 8)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "no slots for 2^28 chunks were allocated");
        Assert.Equal(0, assembler.Pending);
        Assert.Contains("a delta has 1 to", assembler.LastRefusal, StringComparison.Ordinal);
    }
}
