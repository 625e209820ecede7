using Freshet.Model.Data;
using Freshet.Model.Schema;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Freshet.Model.Towers;

/// <summary>
/// The dense tier: a CTR tower and a CVR tower over the same input (the shared embeddings and the
/// numeric fields), ESMM-style: pCTCVR = pCTR x pCVR. Weights are initialised from the schema's seed,
/// so every store that builds the model starts from the same weights.
/// </summary>
public sealed class EsmmModel : Module
{
    /// <summary>
    /// TorchSharp initialises layers from one process-wide generator: two models built at once on two
    /// threads (a dense grain and a trainer's compute model in one silo) would draw from it interleaved
    /// and start from different weights. Seeding and building happen under this lock.
    /// </summary>
    private static readonly Lock InitLock = new();
    private readonly Tower ctr;
    private readonly Tower cvr;

    public EsmmModel(FeatureLayout layout, ModelSpec spec) : base("esmm")
    {
        InputDim = layout.InputDim;
        lock (InitLock)
        {
            using var _ = NewDisposeScope();
            torch.manual_seed(spec.Seed);
            var crossLayers = spec.Interactions is Interactions.Cross or Interactions.DotCross ? spec.CrossLayers : 0;
            ctr = new Tower("ctr", layout.DeepDim, spec.Hidden, spec.BatchNormMomentum, layout.StackRateColumns(TaskKind.Ctr), layout.StackBiasColumns(TaskKind.Ctr), layout.InteractionOffsets, layout.InteractionWidth, crossLayers, spec.CrossRank, layout.StackOwnRates(TaskKind.Ctr), layout.InteractionWidths, layout.AttentionFields);
            cvr = new Tower("cvr", layout.DeepDim, spec.Hidden, spec.BatchNormMomentum, layout.StackRateColumns(TaskKind.Cvr), layout.StackBiasColumns(TaskKind.Cvr), layout.InteractionOffsets, layout.InteractionWidth, crossLayers, spec.CrossRank, layout.StackOwnRates(TaskKind.Cvr), layout.InteractionWidths, layout.AttentionFields);
        }
        RegisterComponents();
    }

    public int InputDim { get; }

    public Tower Ctr => ctr;

    public Tower Cvr => cvr;

    public Tower TowerOf(TaskKind task) => task == TaskKind.Ctr ? ctr : cvr;

    /// <summary>pCTR, pCVR and pCTCVR = pCTR x pCVR for each input row (call in eval mode, under no_grad, to serve).</summary>
    public (Tensor Ctr, Tensor Cvr, Tensor Ctcvr) Predict(Tensor input)
    {
        var pCtr = sigmoid(ctr.call(input));
        var pCvr = sigmoid(cvr.call(input));
        return (pCtr, pCvr, pCtr * pCvr);
    }

    /// <summary>Weights and batch-norm statistics by name, in a stable order (the checkpoint and wire order).</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateInOrder() =>
        [.. state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value))];

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ctr.Dispose();
            cvr.Dispose();
        }
        base.Dispose(disposing);
    }
}
