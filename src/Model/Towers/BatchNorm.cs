using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Freshet.Model.Towers;

/// <summary>
/// Batch normalisation over the features of a [batch, features] input, with running mean and variance
/// for evaluation, the same arithmetic and state names as TorchSharp's BatchNorm1d.
/// <para>
/// Why not BatchNorm1d: in TorchSharp 0.107 its forward counts batches with <c>add_(1)</c>, a
/// temporary Scalar handed to native code by handle and not kept alive, so a garbage collection on
/// another thread can free it mid-call (seen as "Unknown scalar type" from <c>add_</c> while a silo
/// trained). This one counts with a Scalar that lives as long as the process.
/// </para>
/// </summary>
public sealed class BatchNorm : Module<Tensor, Tensor>
{
    private static readonly Scalar One = 1L.ToScalar();
    private readonly double _momentum;
    private readonly double _eps;
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;
    private readonly Tensor num_batches_tracked;

    public BatchNorm(long features, double momentum, double eps = 1e-5) : base("BatchNorm")
    {
        _momentum = momentum;
        _eps = eps;
        // The module owns these for its lifetime: out of any dispose scope the caller has open.
        weight = new Parameter(ones(features).DetachFromDisposeScope());
        bias = new Parameter(zeros(features).DetachFromDisposeScope());
        running_mean = zeros(features).DetachFromDisposeScope();
        running_var = ones(features).DetachFromDisposeScope();
        num_batches_tracked = zeros(1, dtype: ScalarType.Int64).squeeze().DetachFromDisposeScope();
        weight.DetachFromDisposeScope();
        bias.DetachFromDisposeScope();
        register_parameter("weight", weight);
        register_parameter("bias", bias);
        register_buffer("running_mean", running_mean);
        register_buffer("running_var", running_var);
        register_buffer("num_batches_tracked", num_batches_tracked);
    }

    /// <summary>
    /// How much of a full step's say the next training batch has over the running statistics, 0 to 1: the momentum
    /// applied is 1 - (1 - momentum)^weight, so a batch a tenth of the full size moves them as a tenth of a full batch
    /// would, and a batch that is not of this tower's population (0) leaves them where they are.
    /// </summary>
    public double StatisticsWeight { get; set; } = 1;

    public override Tensor forward(Tensor input)
    {
        var momentum = StatisticsWeight >= 1 ? _momentum : StatisticsWeight <= 0 ? 0 : 1 - Math.Pow(1 - _momentum, StatisticsWeight);
        if (training)
        {
            using (no_grad())
            {
                num_batches_tracked.add_(One, One);
            }
        }
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, _eps);
    }
}
