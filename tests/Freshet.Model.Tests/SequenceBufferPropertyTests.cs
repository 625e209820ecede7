using Freshet.Model.Sequences;
using Xunit.Abstractions;

namespace Freshet.Model.Tests;

/// <summary>A sequence buffer's persisted bytes: read back as written, and held to the decoders' property.</summary>
public class SequenceBufferPropertyTests(ITestOutputHelper output)
{
    private static SequenceBuffer Filled()
    {
        var buffer = new SequenceBuffer(3, long.MaxValue, 100);
        for (var i = 0; i < 40; i++) buffer.Add((ulong)(i % 7), (ulong)(100 + i), 10L * i, 10L * i);
        buffer.Add(1, 999, 10_000, 400); // a conversion due later
        return buffer;
    }

    [Fact]
    public void A_saved_buffer_loads_back_with_the_same_sequences_and_bounds()
    {
        var saved = Filled();
        var loaded = SequenceBuffer.Load(saved.Save(), 3, long.MaxValue, 100);
        Assert.Equal(saved.Keys, loaded.Keys);
        for (ulong key = 0; key < 8; key++)
        {
            foreach (var at in new long[] { 0, 200, 395, 401, 20_000 }) Assert.Equal(saved.Before(key, at), loaded.Before(key, at));
        }
        Assert.Equal([999UL], loaded.Before(1, 20_000)[^1..]);
        // Bounds tighter than what was written are refused, not loaded past them.
        var e = Assert.Throws<InvalidDataException>(() => SequenceBuffer.Load(saved.Save(), 3, long.MaxValue, 2));
        Assert.Contains("keys", e.Message);
    }

    [Fact]
    public void Random_and_mutated_states_fail_with_a_data_error_and_cost_no_more_than_their_length()
    {
        DecoderProperty.Holds<InvalidDataException>(output, "SequenceBuffer.Load", DecoderProperty.Payloads([Filled().Save(), new SequenceBuffer(2, 5, 10).Save()]),
            bytes => SequenceBuffer.Load(bytes, 3, long.MaxValue, 100), "sequence state", 48, 64 * 1024);
    }
}
