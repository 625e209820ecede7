namespace Freshet.Model.Schema;

/// <summary>Per-row optimizers of the embedding tables (ours: TorchSharp's optimizers take no sparse gradients).</summary>
public enum SparseOptimizerKind
{
    Adagrad,
    Ftrl,
    Adam,
}
