using Freshet.Grains.Weights;
using Freshet.Model.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>The replica's side of a publish: chunks in any order, repeated, or never completed.</summary>
public sealed class DeltaAssemblerTests
{
    private static WeightMessage Chunk(long checkpoint, long delta, int chunk, int chunks, params byte[] payload) => new()
    {
        Kind = WeightMessageKind.Delta, Model = "m", Weights = new WeightsVersion(checkpoint, delta), Chunk = chunk, Chunks = chunks, Payload = payload,
    };

    [Fact]
    public void Chunks_in_any_order_and_repeated_give_the_delta_once_in_sending_order()
    {
        var assembler = new DeltaAssembler();
        Assert.Null(assembler.Add(Chunk(1, 1, 2, 3, 5, 6)));
        Assert.Null(assembler.Add(Chunk(1, 1, 0, 3, 1, 2)));
        Assert.Null(assembler.Add(Chunk(1, 1, 0, 3, 1, 2)));
        Assert.Equal(1, assembler.Pending);
        Assert.Equal([1, 2, 3, 4, 5, 6], assembler.Add(Chunk(1, 1, 1, 3, 3, 4)));
        Assert.Equal(0, assembler.Pending);
        Assert.Equal([9], assembler.Add(Chunk(1, 2, 0, 1, 9)));
    }

    [Fact]
    public void A_chunk_out_of_range_is_ignored_and_deltas_no_longer_needed_are_dropped()
    {
        var assembler = new DeltaAssembler();
        Assert.Null(assembler.Add(Chunk(1, 1, 3, 3, 1)));
        Assert.Null(assembler.Add(Chunk(1, 1, -1, 3, 1)));
        Assert.Equal(0, assembler.Pending);
        assembler.Add(Chunk(1, 1, 0, 2, 1)); // its sender failed: chunk 1 never comes
        assembler.Add(Chunk(1, 3, 0, 2, 1));
        assembler.Add(Chunk(2, 1, 0, 2, 1));
        Assert.Equal(3, assembler.Pending);
        assembler.Forget(checkpoint: 1, applied: 2); // serving holds checkpoint 1 up to delta 2
        Assert.Equal(1, assembler.Pending);
        Assert.Equal([1, 7], assembler.Add(Chunk(1, 3, 1, 2, 7)));
    }
}
