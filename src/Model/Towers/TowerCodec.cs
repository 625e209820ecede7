using System.Runtime.InteropServices;
using TorchSharp;
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
        var at = 0;
        foreach (var p in tower.parameters())
        {
            var n = (int)p.numel();
            p.data<float>().CopyTo(result.AsSpan(at, n));
            at += n;
        }
        return result;
    }

    public static void WriteParameters(Tower tower, ReadOnlySpan<float> values)
    {
        using var _ = no_grad();
        var at = 0;
        foreach (var p in tower.parameters())
        {
            var n = (int)p.numel();
            p.bytes = MemoryMarshal.AsBytes(values.Slice(at, n)).ToArray();
            at += n;
        }
    }

    /// <summary>The gradients the parameters hold (zeros where none).</summary>
    public static float[] ReadGradients(Tower tower)
    {
        var result = new float[ParameterCount(tower)];
        var at = 0;
        foreach (var p in tower.parameters())
        {
            var n = (int)p.numel();
            if (p.grad is { } g) g.data<float>().CopyTo(result.AsSpan(at, n));
            at += n;
        }
        return result;
    }

    /// <summary>The batch-norm running statistics (and batch counters), raw, in buffer order.</summary>
    public static byte[] ReadBuffers(Tower tower)
    {
        using var ms = new MemoryStream();
        foreach (var b in tower.buffers())
        {
            ms.Write(b.contiguous().bytes);
        }
        return ms.ToArray();
    }

    public static void WriteBuffers(Tower tower, ReadOnlySpan<byte> bytes)
    {
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
}
