using System.Runtime.InteropServices;
using Freshet.Model.Schema;
using static TorchSharp.torch;

namespace Freshet.Model.Training;

/// <summary>
/// The optimizer of one tower's parameters, computed on managed arrays: each step reads the
/// parameters and their gradients out of TorchSharp, updates them here, and writes them back.
/// <para>
/// Why not TorchSharp's optimizers: in TorchSharp 0.107 they pass temporary <c>Scalar</c>s to
/// native code by handle without keeping them alive, so a garbage collection during
/// <c>step()</c> can free a scalar in use (seen here as an intermittent "Expected false to be
/// true" from <c>addcdiv_</c> inside <c>Adam.step</c>). The arithmetic is the same (PyTorch's
/// Adam, Adagrad and SGD), the state is plain arrays that serialise as bytes, and the copies
/// cost about a millisecond per million weights.
/// </para>
/// </summary>
public sealed class DenseOptimizer
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly int[] _offsets;
    private readonly DenseOptimizerKind _kind;
    private readonly float _lr;
    private readonly float _beta1;
    private readonly float _beta2;
    private readonly float[] _weights;
    private readonly float[] _gradients;
    private readonly float[] _state1;
    private readonly float[] _state2;
    private long _step;

    public DenseOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, ModelSpec spec)
    {
        _parameters = [.. parameters];
        _offsets = new int[_parameters.Length + 1];
        for (var i = 0; i < _parameters.Length; i++) _offsets[i + 1] = _offsets[i] + (int)_parameters[i].numel();
        Size = _offsets[^1];
        _kind = spec.DenseOptimizer;
        _lr = spec.DenseLearningRate;
        _beta1 = spec.AdamBeta1;
        _beta2 = spec.AdamBeta2;
        _weights = new float[Size];
        _gradients = new float[Size];
        _state1 = new float[_kind == DenseOptimizerKind.Sgd ? 0 : Size];
        _state2 = new float[_kind == DenseOptimizerKind.Adam ? Size : 0];
    }

    /// <summary>Number of weights this optimizer updates.</summary>
    public int Size { get; }

    public long Steps => _step;

    /// <summary>One step with the gradients the parameters hold; clears them afterwards.</summary>
    public void Step()
    {
        // `grad` reads are new wrappers over the gradients' storage: disposed here, not left to the finalizer.
        using var scope = NewDisposeScope();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            var g = _gradients.AsSpan(_offsets[i], _offsets[i + 1] - _offsets[i]);
            if (p.grad is { } grad) grad.data<float>().CopyTo(g);
            else g.Clear();
        }
        Apply();
    }

    /// <summary>One step with gradients given in parameter order (from another process, as bytes).</summary>
    public void Step(ReadOnlySpan<float> gradients)
    {
        if (gradients.Length != Size)
        {
            throw new ArgumentException($"{gradients.Length} gradients for {Size} weights", nameof(gradients));
        }
        gradients.CopyTo(_gradients);
        Apply();
    }

    private void Apply()
    {
        using var scope = NewDisposeScope();
        for (var i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].data<float>().CopyTo(_weights.AsSpan(_offsets[i], _offsets[i + 1] - _offsets[i]));
        }
        _step++;
        Update();
        using (no_grad())
        {
            for (var i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                p.bytes = MemoryMarshal.AsBytes(_weights.AsSpan(_offsets[i], _offsets[i + 1] - _offsets[i]));
                p.grad?.zero_();
            }
        }
    }

    private void Update()
    {
        var w = _weights;
        var g = _gradients;
        switch (_kind)
        {
            case DenseOptimizerKind.Adam:
            {
                var c1 = 1 - Math.Pow(_beta1, _step);
                var c2 = 1 - Math.Pow(_beta2, _step);
                var stepSize = (float)(_lr / c1);
                var c2Sqrt = (float)Math.Sqrt(c2);
                for (var k = 0; k < w.Length; k++)
                {
                    var m = _state1[k] = _beta1 * _state1[k] + (1 - _beta1) * g[k];
                    var v = _state2[k] = _beta2 * _state2[k] + (1 - _beta2) * g[k] * g[k];
                    w[k] -= stepSize * m / (MathF.Sqrt(v) / c2Sqrt + 1e-8f);
                }
                break;
            }
            case DenseOptimizerKind.Adagrad:
                for (var k = 0; k < w.Length; k++)
                {
                    var acc = _state1[k] += g[k] * g[k];
                    w[k] -= _lr * g[k] / (MathF.Sqrt(acc) + 1e-10f);
                }
                break;
            default:
                for (var k = 0; k < w.Length; k++) w[k] -= _lr * g[k];
                break;
        }
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write((byte)_kind);
        writer.Write(Size);
        writer.Write(_step);
        writer.Write(MemoryMarshal.AsBytes(_state1.AsSpan()));
        writer.Write(MemoryMarshal.AsBytes(_state2.AsSpan()));
    }

    public void Load(BinaryReader reader)
    {
        var kind = (DenseOptimizerKind)reader.ReadByte();
        var size = reader.ReadInt32();
        var step = reader.ReadInt64();
        if (kind != _kind || size != Size)
        {
            throw new InvalidDataException($"dense optimizer state is {kind} over {size} weights; this model uses {_kind} over {Size}");
        }
        _step = step;
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_state1.AsSpan()));
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_state2.AsSpan()));
    }
}
