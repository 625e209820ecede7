using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>
/// FTRL-Proximal per coordinate (McMahan et al. 2013). State is (z, n); the weight is a closed form
/// of them, so a new row's z is set to give back its initial weight.
/// </summary>
public sealed class FtrlOptimizer : SparseOptimizer
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly float _l1;
    private readonly float _l2;

    public FtrlOptimizer(float alpha, float beta, float l1, float l2) : base(alpha)
    {
        _alpha = alpha;
        _beta = beta;
        _l1 = l1;
        _l2 = l2;
    }

    public override SparseOptimizerKind Kind => SparseOptimizerKind.Ftrl;

    public override int StatePerWeight => 2;

    public override void Initialize(ReadOnlySpan<float> weights, Span<float> state)
    {
        var d = weights.Length;
        for (var k = 0; k < d; k++)
        {
            var w = weights[k];
            state[k] = -w * (_beta / _alpha + _l2) - MathF.Sign(w) * _l1; // z
            state[d + k] = 0f; // n
        }
    }

    public override void Update(Span<float> weights, Span<float> state, ReadOnlySpan<float> gradient, ref int step)
    {
        var d = weights.Length;
        for (var k = 0; k < d; k++)
        {
            var g = gradient[k];
            var n = state[d + k];
            var nNew = n + g * g;
            var sigma = (MathF.Sqrt(nNew) - MathF.Sqrt(n)) / _alpha;
            var z = state[k] + g - sigma * weights[k];
            state[k] = z;
            state[d + k] = nNew;
            weights[k] = MathF.Abs(z) <= _l1 ? 0f : -(z - MathF.Sign(z) * _l1) / ((_beta + MathF.Sqrt(nNew)) / _alpha + _l2);
        }
        step++;
    }
}
