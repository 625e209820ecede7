using TorchSharp;
using static TorchSharp.torch;

namespace Freshet.Bench;

/// <summary>
/// Adagrad and Adam written with TorchSharp tensor ops, holding their Scalars for the optimizer's
/// lifetime. TorchSharp 0.107's own optimizers create temporary Scalars per call and pass them to
/// native code by handle without keeping them alive, which a garbage collection can break
/// mid-call; these do the same arithmetic without that hazard.
/// </summary>
public sealed class ExplicitScalarOptimizer : IDisposable
{
    private readonly (Tensor Parameter, Tensor State1, Tensor? State2)[] _slots;
    private readonly bool _adam;
    private readonly double _lr;
    private readonly Scalar _one = 1.0.ToScalar();
    private readonly Scalar _eps;
    private readonly Scalar _beta1 = 0.9.ToScalar();
    private readonly Scalar _oneMinusBeta1 = 0.1.ToScalar();
    private readonly Scalar _beta2 = 0.999.ToScalar();
    private readonly Scalar _oneMinusBeta2 = 0.001.ToScalar();
    private readonly Scalar _minusLr;
    private long _step;

    private ExplicitScalarOptimizer(IEnumerable<Tensor> parameters, double lr, bool adam)
    {
        _adam = adam;
        _lr = lr;
        _eps = (adam ? 1e-8 : 1e-10).ToScalar();
        _minusLr = (-lr).ToScalar();
        _slots = [.. parameters.Select(p => (p, zeros_like(p).DetachFromDisposeScope(), adam ? zeros_like(p).DetachFromDisposeScope() : null))];
    }

    public static ExplicitScalarOptimizer Adagrad(IEnumerable<Tensor> parameters, double lr) => new(parameters, lr, adam: false);

    public static ExplicitScalarOptimizer Adam(IEnumerable<Tensor> parameters, double lr) => new(parameters, lr, adam: true);

    public void ZeroGrad()
    {
        foreach (var (p, _, _) in _slots) p.grad?.zero_();
    }

    public void Step()
    {
        _step++;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var stepSize = _adam ? (-_lr / (1 - Math.Pow(0.9, _step))).ToScalar() : null;
        using var bias2 = _adam ? Math.Sqrt(1 - Math.Pow(0.999, _step)).ToScalar() : null;
        foreach (var (p, s1, s2) in _slots)
        {
            if (p.grad is not { } g) continue;
            if (_adam)
            {
                s1.mul_(_beta1).add_(g, _oneMinusBeta1);
                s2!.mul_(_beta2).addcmul_(g, g, _oneMinusBeta2);
                var denom = s2.sqrt().div_(bias2!).add_(_eps);
                p.addcdiv_(s1, denom, stepSize!);
            }
            else
            {
                s1.addcmul_(g, g, _one);
                p.addcdiv_(g, s1.sqrt().add_(_eps), _minusLr);
            }
        }
    }

    public void Dispose()
    {
        foreach (var (_, s1, s2) in _slots)
        {
            s1.Dispose();
            s2?.Dispose();
        }
        foreach (var s in new[] { _one, _eps, _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _minusLr }) s.Dispose();
    }
}
