using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Freshet.Model.Towers;

/// <summary>
/// A tower's parameters, gradients and batch-norm buffers as flat arrays and bytes, in the
/// tower's parameter order: how the dense tier crosses grain calls.
/// </summary>
public static class TowerCodec
{
    public static int ParameterCount(Tower tower) => tower.parameters().Sum(p => (int)p.numel());

    public static float[] ReadParameters(Tower tower)
    {
        var result = new float[ParameterCount(tower)];
        ReadParameters(tower, result);
        return result;
    }

    /// <summary>
    /// The parameters as the wire's float32 bytes, written once: a tower's weights cross a grain call every training step,
    /// and each array of them (hundreds of KB) lands on the large object heap, which only full collections reclaim.
    /// </summary>
    public static byte[] ReadParameterBytes(Tower tower)
    {
        var result = new byte[ParameterCount(tower) * sizeof(float)];
        ReadParameters(tower, MemoryMarshal.Cast<byte, float>(result.AsSpan()));
        return result;
    }

    private static void ReadParameters(Tower tower, Span<float> into)
    {
        var at = 0;
        using var scope = NewDisposeScope();
        foreach (var p in tower.parameters())
        {
            var n = (int)p.numel();
            p.data<float>().CopyTo(into.Slice(at, n));
            at += n;
        }
    }

    /// <summary>Bytes of the tower's batch-norm buffers (and batch counters), as <see cref="ReadBuffers"/> gives them.</summary>
    public static long BufferBytes(Tower tower) => tower.buffers().Sum(b => b.numel() * b.ElementSize);

    /// <summary>
    /// Checks what crossed the wire fits <paramref name="tower"/>: a value per parameter, and its buffers' bytes (with the
    /// base they started from, when given), before anything is changed.
    /// </summary>
    /// <exception cref="InvalidDataException">Names the sizes given and the tower's.</exception>
    public static void CheckSizes(Tower tower, int parameters, int bufferBytes, int? baseBytes = null)
    {
        var count = ParameterCount(tower);
        if (parameters != count) throw new InvalidDataException($"tower: {parameters} values for {count} parameters");
        var bytes = BufferBytes(tower);
        if (bufferBytes != bytes || (baseBytes is { } b && b != bytes))
        {
            throw new InvalidDataException($"tower buffers: {bufferBytes} bytes{(baseBytes is { } x ? $" (base {x})" : "")}, the tower holds {bytes}");
        }
    }

    /// <exception cref="InvalidDataException">There is not one value per parameter.</exception>
    public static void WriteParameters(Tower tower, ReadOnlySpan<float> values)
    {
        var count = ParameterCount(tower);
        if (values.Length != count) throw new InvalidDataException($"tower: {values.Length} values for {count} parameters");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var at = 0;
        foreach (var p in tower.parameters())
        {
            var n = (int)p.numel();
            // Copied into the tensor's storage from the caller's span (the setter only reads it): no array per parameter.
            var part = MemoryMarshal.AsBytes(values.Slice(at, n));
            p.bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(part), part.Length);
            at += n;
        }
    }

    /// <summary>The gradients the parameters hold (zeros where none), as the wire's float32 bytes, written once (see <see cref="ReadParameterBytes"/>).</summary>
    public static byte[] ReadGradientBytes(Tower tower)
    {
        var result = new byte[ParameterCount(tower) * sizeof(float)];
        ReadGradients(tower, MemoryMarshal.Cast<byte, float>(result.AsSpan()));
        return result;
    }

    private static void ReadGradients(Tower tower, Span<float> result)
    {
        var at = 0;
        // Every `grad` read is a new wrapper holding the gradient's storage: disposed here, not by a finalizer some GCs
        // later (undisposed, each step's gradients stayed in native memory until then: the soak drill's RSS grew with GC pauses).
        using var scope = NewDisposeScope();
        foreach (var p in tower.parameters())
        {
            var n = (int)p.numel();
            if (p.grad is { } g) g.data<float>().CopyTo(result.Slice(at, n));
            else result.Slice(at, n).Clear();
            at += n;
        }
    }

    /// <summary>The batch-norm running statistics (and batch counters), raw, in buffer order.</summary>
    public static byte[] ReadBuffers(Tower tower)
    {
        using var ms = new MemoryStream();
        using var scope = NewDisposeScope();
        foreach (var b in tower.buffers())
        {
            ms.Write(b.contiguous().bytes);
        }
        return ms.ToArray();
    }

    public static void WriteBuffers(Tower tower, ReadOnlySpan<byte> bytes)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var at = 0;
        foreach (var b in tower.buffers())
        {
            var n = (int)(b.numel() * b.ElementSize);
            if (at + n > bytes.Length) throw new InvalidDataException($"tower buffers: {bytes.Length} bytes, the tower needs more");
            b.bytes = bytes.Slice(at, n).ToArray();
            at += n;
        }
        if (at != bytes.Length) throw new InvalidDataException($"tower buffers: {bytes.Length} bytes, the tower holds {at}");
    }

    /// <summary>
    /// Adds to the tower's batch-norm buffers what one trainer's forward pass changed in its own copy:
    /// <paramref name="after"/> minus <paramref name="before"/>, buffer by buffer (floats and batch counters alike).
    /// How the dense tier takes several trainers' running statistics: each batch moves the shared statistics by its
    /// own momentum step, as it moves the weights by its own gradient, instead of the last push replacing the rest.
    /// A variance is kept at zero or above (a stale base could otherwise take a small one below).
    /// </summary>
    public static void AddBufferChanges(Tower tower, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after)
    {
        if (before.Length != after.Length)
        {
            throw new InvalidDataException($"tower buffers: the base has {before.Length} bytes and the result {after.Length}");
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var at = 0;
        foreach (var (name, b) in tower.named_buffers())
        {
            var n = (int)(b.numel() * b.ElementSize);
            if (at + n > after.Length) throw new InvalidDataException($"tower buffers: {after.Length} bytes, the tower needs more");
            var current = b.bytes.ToArray();
            switch (b.dtype)
            {
                case ScalarType.Float32:
                {
                    var c = MemoryMarshal.Cast<byte, float>(current.AsSpan());
                    var x = MemoryMarshal.Cast<byte, float>(before.Slice(at, n));
                    var y = MemoryMarshal.Cast<byte, float>(after.Slice(at, n));
                    var variance = name.EndsWith("running_var", StringComparison.Ordinal);
                    for (var i = 0; i < c.Length; i++)
                    {
                        var v = c[i] + (y[i] - x[i]);
                        c[i] = variance && v < 0 ? 0 : v;
                    }
                    break;
                }
                case ScalarType.Int64:
                {
                    var c = MemoryMarshal.Cast<byte, long>(current.AsSpan());
                    var x = MemoryMarshal.Cast<byte, long>(before.Slice(at, n));
                    var y = MemoryMarshal.Cast<byte, long>(after.Slice(at, n));
                    for (var i = 0; i < c.Length; i++) c[i] += y[i] - x[i];
                    break;
                }
                default:
                    throw new InvalidDataException($"tower buffer {name}: element type {b.dtype} is not one the dense tier adds");
            }
            b.bytes = current;
            at += n;
        }
        if (at != after.Length) throw new InvalidDataException($"tower buffers: {after.Length} bytes, the tower holds {at}");
    }
}
