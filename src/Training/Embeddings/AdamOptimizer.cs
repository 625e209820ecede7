using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>Lazy Adam: moments per coordinate, bias correction by the row's own step count (rows step only when seen).</summary>
public sealed class AdamOptimizer(float learningRate, float beta1, float beta2) : SparseOptimizer(learningRate)
{
    private const float Epsilon = 1e-8f;

    public override SparseOptimizerKind Kind => SparseOptimizerKind.Adam;

    public override int StatePerWeight => 2;

    public override void Initialize(ReadOnlySpan<float> weights, Span<float> state) => state.Clear();

    public override void Update(Span<float> weights, Span<float> state, ReadOnlySpan<float> gradient, ref int step)
    {
        step++;
        var d = weights.Length;
        var c1 = 1 - MathF.Pow(beta1, step);
        var c2 = 1 - MathF.Pow(beta2, step);
        var lr = LearningRate * MathF.Sqrt(c2) / c1;
        for (var k = 0; k < d; k++)
        {
            var g = gradient[k];
            var m = beta1 * state[k] + (1 - beta1) * g;
            var v = beta2 * state[d + k] + (1 - beta2) * g * g;
            state[k] = m;
            state[d + k] = v;
            weights[k] -= lr * m / (MathF.Sqrt(v) + Epsilon);
        }
    }
}
