using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Freshet.Model.Towers;

/// <summary>
/// DCN-v2's cross network (Wang et al., WWW 2021): each layer computes x(l+1) = x0 * (W x(l) + b) + x(l), so layer l
/// holds every product of up to l + 1 input columns with a learned weight, and the residual keeps what the layer below
/// said. W is d x d, or U V' of rank r (two Linear layers, d to r and r to d) where the input is wide.
/// </summary>
public sealed class CrossNetwork : Module<Tensor, Tensor>
{
    private readonly ModuleList<Module<Tensor, Tensor>> _layers = new();

    /// <param name="width">The input's columns (the output has as many).</param>
    /// <param name="layers">Cross layers, at least one.</param>
    /// <param name="rank">0 for full-rank matrices, else the rank of each.</param>
    public CrossNetwork(string name, int width, int layers, int rank) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        for (var i = 0; i < layers; i++)
        {
            _layers.Add(rank == 0 || rank >= width
                ? Linear(width, width)
                : Sequential(("v", Linear(width, rank, hasBias: false)), ("u", Linear(rank, width))));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x0)
    {
        var x = x0;
        foreach (var layer in _layers)
        {
            using var projected = layer.call(x);
            x = x0.mul(projected).add_(x);
        }
        return x;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var layer in _layers) layer.Dispose();
        }
        base.Dispose(disposing);
    }
}
