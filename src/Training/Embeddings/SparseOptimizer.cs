using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>
/// A per-row optimizer on embedding slabs: each row's weights and state are updated from that row's
/// gradient alone (TorchSharp's optimizers take no sparse gradients, and rows live in hash maps).
/// </summary>
public abstract class SparseOptimizer
{
    protected SparseOptimizer(float learningRate) => LearningRate = learningRate;

    public float LearningRate { get; }

    public abstract SparseOptimizerKind Kind { get; }

    /// <summary>State floats per weight (Adagrad 1, FTRL 2, Adam 2).</summary>
    public abstract int StatePerWeight { get; }

    /// <summary>Sets the state of a new row whose weights are <paramref name="weights"/>.</summary>
    public abstract void Initialize(ReadOnlySpan<float> weights, Span<float> state);

    /// <summary>One step on one row. <paramref name="step"/> is the row's step count (Adam's bias correction).</summary>
    public abstract void Update(Span<float> weights, Span<float> state, ReadOnlySpan<float> gradient, ref int step);

    public static SparseOptimizer Create(SparseOptimizerKind kind, float learningRate, ModelSpec m) => kind switch
    {
        SparseOptimizerKind.Adagrad => new AdagradOptimizer(learningRate, m.AdagradInitialAccumulator),
        SparseOptimizerKind.Ftrl => new FtrlOptimizer(learningRate, m.FtrlBeta, m.FtrlL1, m.FtrlL2),
        SparseOptimizerKind.Adam => new AdamOptimizer(learningRate, m.AdamBeta1, m.AdamBeta2),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown sparse optimizer"),
    };
}
