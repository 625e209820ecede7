using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>Adagrad per coordinate: w -= lr * g / sqrt(sum of g^2), the accumulator starting at a small positive value.</summary>
public sealed class AdagradOptimizer(float learningRate, float initialAccumulator) : SparseOptimizer(learningRate)
{
    private const float Epsilon = 1e-10f;

    public override SparseOptimizerKind Kind => SparseOptimizerKind.Adagrad;

    public override int StatePerWeight => 1;

    public float InitialAccumulator { get; } = initialAccumulator;

    public override void Initialize(ReadOnlySpan<float> weights, Span<float> state) => state.Fill(InitialAccumulator);

    public override void Update(Span<float> weights, Span<float> state, ReadOnlySpan<float> gradient, ref int step)
    {
        var lr = LearningRate;
        for (var k = 0; k < weights.Length; k++)
        {
            var g = gradient[k];
            var acc = state[k] + g * g;
            state[k] = acc;
            weights[k] -= lr * g / (MathF.Sqrt(acc) + Epsilon);
        }
        step++;
    }
}
