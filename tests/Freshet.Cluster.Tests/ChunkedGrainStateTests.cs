using Freshet.Grains.Persistence;
using Orleans.Storage;

namespace Freshet.Cluster.Tests;

/// <summary>A grain's binary state in bounded chunks: serialized once into them, read back whole and verified.</summary>
public class ChunkedGrainStateTests
{
    /// <summary>Grain storage in a dictionary, keeping a copy of what it is given as a real store would (a test double for the unit alone).</summary>
    private sealed class CopyingStorage : IGrainStorage
    {
        public readonly Dictionary<string, byte[]?> Records = new(StringComparer.Ordinal);
        public readonly Dictionary<string, StateHead> Heads = new(StringComparer.Ordinal);
        public int LargestWrite;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (grainState is IGrainState<StateChunk> chunk && Records.TryGetValue(stateName, out var data))
            {
                chunk.State = new StateChunk { Data = (byte[])data!.Clone() };
                chunk.RecordExists = true;
                chunk.ETag = "e";
            }
            else if (grainState is IGrainState<StateHead> head && Heads.TryGetValue(stateName, out var h))
            {
                head.State = new StateHead { Generation = h.Generation, Chunks = h.Chunks, Length = h.Length, Sha256 = h.Sha256 };
                head.RecordExists = true;
                head.ETag = "e";
            }
            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            switch (grainState)
            {
                case IGrainState<StateChunk> chunk:
                    Records[stateName] = (byte[])chunk.State!.Data.Clone();
                    LargestWrite = Math.Max(LargestWrite, chunk.State!.Data.Length);
                    break;
                case IGrainState<StateHead> head:
                    Heads[stateName] = new StateHead { Generation = head.State!.Generation, Chunks = head.State.Chunks, Length = head.State.Length, Sha256 = head.State.Sha256 };
                    break;
            }
            grainState.RecordExists = true;
            grainState.ETag = "e";
            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Records.Remove(stateName);
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_state_written_through_a_stream_reads_back_whole_in_chunks_of_at_most_the_size_and_the_old_generation_goes()
    {
        var storage = new CopyingStorage();
        var grain = GrainId.Create("test", "g");
        var random = new Random(5);
        foreach (var size in new[] { 0, 1, 15, 16, 17, 83, 160 })
        {
            var data = new byte[size];
            random.NextBytes(data);
            // Written in pieces of odd sizes, as a serializer writes a header, then columns.
            await new ChunkedGrainState(storage, grain, "s", chunkBytes: 16).WriteAsync(s =>
            {
                for (var at = 0; at < size; at += 7) s.Write(data, at, Math.Min(7, size - at));
            });
            var state = new ChunkedGrainState(storage, grain, "s", chunkBytes: 16);
            Assert.Equal(data, await state.ReadAsync());
            Assert.Equal(Math.Max(1, (size + 15) / 16), storage.Records.Count); // the previous generation was cleared
            Assert.True(storage.LargestWrite <= 16);
        }

        // A chunk changed in the store is found by the hash.
        var key = storage.Records.Keys.First();
        storage.Records[key]![0] ^= 0xFF;
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new ChunkedGrainState(storage, grain, "s", chunkBytes: 16).ReadAsync());
        Assert.Contains("SHA-256", e.Message);
    }

    [Fact]
    public async Task A_serializer_that_fails_midway_leaves_the_previous_state_readable_and_its_error_is_the_one_told()
    {
        var storage = new CopyingStorage();
        var state = new ChunkedGrainState(storage, GrainId.Create("test", "f"), "s", chunkBytes: 8);
        await state.WriteAsync([.. Enumerable.Range(0, 30).Select(i => (byte)i)]);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => state.WriteAsync(s =>
        {
            s.Write(new byte[40]); // five chunks go to storage
            throw new InvalidOperationException("the table changed");
        }));
        Assert.Equal("the table changed", e.Message);
        Assert.Equal(4, storage.Records.Count); // the 30 bytes' 4 chunks: the failed write's 5 went with it
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (byte)i), await new ChunkedGrainState(storage, GrainId.Create("test", "f"), "s", chunkBytes: 8).ReadAsync());
    }

    [Fact]
    public async Task A_state_read_as_a_stream_over_its_chunks_reads_and_seeks_as_one_array_would()
    {
        var storage = new CopyingStorage();
        var grain = GrainId.Create("test", "r");
        var data = Enumerable.Range(0, 100).Select(i => (byte)(i * 7)).ToArray();
        await new ChunkedGrainState(storage, grain, "s", chunkBytes: 16).WriteAsync(data);
        await using var stream = await new ChunkedGrainState(storage, grain, "s", chunkBytes: 16).OpenReadAsync();
        Assert.NotNull(stream);
        Assert.Equal(100, stream.Length);
        var read = new List<byte>();
        var buffer = new byte[13]; // pieces that straddle the chunks' edges
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) read.AddRange(buffer[..n]);
        Assert.Equal(data, read);
        foreach (var at in new[] { 0, 15, 16, 17, 63, 99, 100 })
        {
            stream.Position = at;
            Assert.Equal(at, stream.Position);
            Assert.Equal(100 - at, stream.Length - stream.Position);
            Assert.Equal(at < 100 ? data[at] : -1, stream.ReadByte());
        }
        Assert.Throws<IOException>(() => stream.Position = 101);
        Assert.Null(await new ChunkedGrainState(storage, grain, "never-written").OpenReadAsync());
    }

    [Fact]
    public async Task A_state_written_again_by_the_same_holder_reads_back_the_latest()
    {
        var storage = new CopyingStorage();
        var state = new ChunkedGrainState(storage, GrainId.Create("test", "h"), "s", chunkBytes: 8);
        await state.WriteAsync([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], await state.ReadAsync());
        await state.WriteAsync(s => s.Write([10, 11, 12]));
        Assert.Equal([10, 11, 12], await state.ReadAsync());
        Assert.Equal(3, state.LastWriteBytes);
    }
}
