using System.Text;
using Freshet.Model.Towers;
using Freshet.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Freshet.Model.Checkpoints;

/// <summary>
/// Binary file of the dense tier (little-endian): magic <c>FRSHDENS</c>, format version, tensor
/// count, then per tensor its name, element type, shape and raw data (weights and batch-norm running
/// statistics), then the dense optimizers' state.
/// </summary>
public static class DenseFile
{
    private static readonly byte[] Magic = "FRSHDENS"u8.ToArray();
    private const ushort FormatVersion = 1;

    public static void Write(Stream stream, EsmmModel model, DenseOptimizers? optimizers)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        using var scope = torch.NewDisposeScope(); // contiguous() makes a wrapper per tensor
        w.Write(Magic);
        w.Write(FormatVersion);
        var state = model.StateInOrder();
        w.Write(state.Count);
        foreach (var (name, t) in state)
        {
            w.Write(name);
            w.Write((byte)t.dtype);
            w.Write(t.shape.Length);
            foreach (var d in t.shape) w.Write(d);
            var bytes = t.contiguous().bytes;
            w.Write(bytes.Length);
            w.Write(bytes);
        }
        if (optimizers is null)
        {
            w.Write(0);
            return;
        }
        using var ms = new MemoryStream();
        using (var ow = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) optimizers.Save(ow);
        w.Write((int)ms.Length);
        w.Write(ms.GetBuffer(), 0, (int)ms.Length);
    }

    /// <summary>The tensors and optimizer state of a dense file, read and checked but not yet applied.</summary>
    public sealed record Content(IReadOnlyDictionary<string, (ScalarType Type, long[] Shape, byte[] Data)> Tensors, byte[] OptimizerState);

    /// <summary>Ranks of a tensor, at most (the towers' are 1 and 2).</summary>
    private const int MaxRank = 8;

    /// <summary>
    /// Reads a dense file; every length in it is checked against the bytes the stream still holds (or grown as they
    /// arrive, see <see cref="StreamBlocks"/>) before it is allocated.
    /// </summary>
    /// <exception cref="CheckpointException">It is not a whole, consistent dense file; the message starts with <paramref name="name"/>.</exception>
    public static Content Read(Stream stream, string name)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new CheckpointException($"{name}: not a Freshet dense file (bad magic)");
            var version = r.ReadUInt16();
            if (version > FormatVersion) throw new CheckpointException($"{name}: dense format {version} is newer than this build reads ({FormatVersion})");
            var count = r.ReadInt32();
            var tensors = new Dictionary<string, (ScalarType, long[], byte[])>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var tensorName = r.ReadString();
                var type = (ScalarType)r.ReadByte();
                var rank = r.ReadInt32();
                if (rank is < 0 or > MaxRank) throw new CheckpointException($"{name}: tensor '{tensorName}' has rank {rank}; 0 to {MaxRank}");
                var shape = new long[rank];
                for (var k = 0; k < rank; k++) shape[k] = r.ReadInt64();
                tensors[tensorName] = (type, shape, Block(stream, r.ReadInt32(), $"tensor '{tensorName}'", name));
            }
            return new Content(tensors, Block(stream, r.ReadInt32(), "the optimizers' state", name));
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException($"{name}: the file ends early (truncated)", e);
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            // BinaryReader's own refusals: a string length that is not one, or negative.
            throw new CheckpointException($"{name}: cannot be read ({e.Message})", e);
        }
    }

    private static byte[] Block(Stream stream, int length, string what, string name)
    {
        if (length < 0 || (StreamBlocks.Remaining(stream) is { } left && length > left))
        {
            throw new CheckpointException($"{name}: {what} has {length} bytes, {(StreamBlocks.Remaining(stream) is { } l ? $"the file holds {l} more" : "which is not a length")}: the file is truncated or damaged");
        }
        return StreamBlocks.Read<byte>(stream, length) ?? throw new CheckpointException($"{name}: the file ends early (truncated) in {what}");
    }

    /// <summary>Copies the content into the model (and optimizers); every tensor must match by name, type and shape.</summary>
    public static void Apply(Content content, EsmmModel model, DenseOptimizers? optimizers, string name)
    {
        using var scope = torch.NewDisposeScope();
        var state = model.StateInOrder();
        foreach (var (tensorName, t) in state)
        {
            if (!content.Tensors.TryGetValue(tensorName, out var stored))
            {
                throw new CheckpointException($"{name}: tensor '{tensorName}' is missing: the checkpoint was written for a different model (schema fields or model.hidden differ)");
            }
            if (stored.Type != t.dtype || !stored.Shape.SequenceEqual(t.shape))
            {
                throw new CheckpointException($"{name}: tensor '{tensorName}' is {stored.Type} [{string.Join(",", stored.Shape)}], the model's is {t.dtype} [{string.Join(",", t.shape)}]: the checkpoint was written for a different model");
            }
            if (stored.Data.LongLength != t.NumberOfElements * t.ElementSize)
            {
                throw new CheckpointException($"{name}: tensor '{tensorName}' holds {stored.Data.Length} bytes, its shape [{string.Join(",", t.shape)}] takes {t.NumberOfElements * t.ElementSize}");
            }
        }
        using (no_grad())
        {
            foreach (var (tensorName, t) in state)
            {
                t.bytes = content.Tensors[tensorName].Data;
            }
        }
        if (optimizers is not null && content.OptimizerState.Length > 0)
        {
            using var r = new BinaryReader(new MemoryStream(content.OptimizerState));
            try
            {
                optimizers.Load(r);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                throw new CheckpointException($"{name}: the optimizers' state does not fit this model ({e.Message})", e);
            }
        }
    }
}
