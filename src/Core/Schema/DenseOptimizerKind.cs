namespace Freshet.Model.Schema;

/// <summary>TorchSharp optimizer of the dense tier.</summary>
public enum DenseOptimizerKind
{
    Adam,
    Adagrad,
    Sgd,
}
