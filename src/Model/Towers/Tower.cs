using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Freshet.Model.Towers;

/// <summary>
/// One task's head: an MLP ((Linear, BatchNorm1d, ReLU) per hidden width, then a Linear to one logit)
/// plus a linear "wide" term over the same input. The wide term lets an id's embedding move the
/// logit directly, so a new item's or user's own effect is learned about as fast as a logistic
/// regression learns it, while the MLP learns the interactions; on a stream that starts blank this
/// is most of the difference in the first hours.
/// </summary>
public sealed class Tower : Module<Tensor, Tensor>
{
    /// <summary>Held for the process's lifetime: a temporary Scalar passed to native code can be collected mid-call (see <see cref="BatchNorm"/>).</summary>
    private static readonly Scalar One = 1.0.ToScalar();
    private readonly Sequential body;
    private readonly Linear wide;
    private readonly Linear output;

    public Tower(string name, int inputDim, IReadOnlyList<int> hidden, double batchNormMomentum) : base(name)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var width = inputDim;
        for (var i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"fc{i + 1}", Linear(width, hidden[i])));
            layers.Add(($"bn{i + 1}", new BatchNorm(hidden[i], batchNormMomentum)));
            layers.Add(($"relu{i + 1}", ReLU()));
            width = hidden[i];
        }
        output = Linear(width, 1);
        layers.Add(("out", output));
        body = Sequential(layers);
        wide = Linear(inputDim, 1, hasBias: false);
        RegisterComponents();
    }

    /// <summary>
    /// Sets the logit's bias to the log-odds of <paramref name="rate"/>. A blank tower predicts 0.5;
    /// at a 4% click rate its first gradients then push every embedding down by how often it was
    /// shown, and the tower spends its first hundreds of steps ranking items by exposure instead
    /// of by rate. Starting at the observed base rate avoids that.
    /// </summary>
    public void InitializeOutputBias(double rate)
    {
        var p = Math.Clamp(rate, 1e-4, 1 - 1e-4);
        using var _ = no_grad();
        using var logOdds = Math.Log(p / (1 - p)).ToScalar(); // disposed after the call, so alive during it
        output.bias!.fill_(logOdds);
    }

    /// <summary>Logits, one per row of <paramref name="input"/> ([batch]).</summary>
    public override Tensor forward(Tensor input) => body.call(input).add(wide.call(input), One).squeeze(-1);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            wide.Dispose();
        }
        base.Dispose(disposing);
    }
}
