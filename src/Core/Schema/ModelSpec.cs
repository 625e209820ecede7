namespace Freshet.Model.Schema;

/// <summary>Model and optimizer settings; every value has a default.</summary>
public sealed class ModelSpec
{
    /// <summary>Hidden layer widths of each tower (each followed by batch-norm and ReLU).</summary>
    public List<int> Hidden { get; set; } = [128, 64];

    /// <summary>Samples per step on the CTR stream (and on the CVR stream unless <see cref="CvrBatchSize"/> is set).</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// Samples per step on the CVR stream; unset: see <see cref="DefaultCvrBatchSize"/>.
    /// </summary>
    public int? CvrBatchSize { get; set; }

    /// <summary>
    /// The CVR batch when the schema sets none: a quarter of the CTR batch where a log has both labels (clicks are a
    /// fraction of impressions, so with one batch size the CVR tower would step that much less often), else the same.
    /// </summary>
    public static int DefaultCvrBatchSize(int batchSize, bool bothLabels) => bothLabels ? Math.Max(1, batchSize / 4) : batchSize;

    public SparseOptimizerKind SparseOptimizer { get; set; } = SparseOptimizerKind.Adagrad;

    public float SparseLearningRate { get; set; } = 0.2f;

    /// <summary>Adagrad's starting accumulator (keeps the first steps of a new row bounded).</summary>
    public float AdagradInitialAccumulator { get; set; } = 0.1f;

    public float FtrlAlpha { get; set; } = 0.05f;

    public float FtrlBeta { get; set; } = 1f;

    public float FtrlL1 { get; set; }

    public float FtrlL2 { get; set; }

    public float AdamBeta1 { get; set; } = 0.9f;

    public float AdamBeta2 { get; set; } = 0.999f;

    public DenseOptimizerKind DenseOptimizer { get; set; } = DenseOptimizerKind.Adam;

    public float DenseLearningRate { get; set; } = 0.002f;

    /// <summary>New rows start uniform in [-initScale, initScale], from a seed derived from the table and id.</summary>
    public float InitScale { get; set; } = 0.05f;

    /// <summary>
    /// Weight of each batch in batch-norm's running statistics. Higher than PyTorch's 0.1: scoring
    /// and serving use the running statistics, and on a stream they must follow the embeddings as they move.
    /// </summary>
    public double BatchNormMomentum { get; set; } = 0.3;

    public int Seed { get; set; } = 42;

    /// <summary>
    /// The online stacking head on each task (DESIGN.md section 6.6): the deep tower's logit plus fast terms, the
    /// running rate of every id field (log-odds against the global rate, weighted) and a per-id bias per id field
    /// learned by FTRL at <see cref="StackingLearningRate"/>. Its weights live in the tiers like every other.
    /// </summary>
    public bool Stacking { get; set; } = true;

    /// <summary>
    /// Where a log has both labels, each task's stacking head also weighs the other task's running rates (starting at
    /// weight 0): a user's click rate says something about the same user's conversions, and counts of clicks are many
    /// where counts of conversions are few.
    /// </summary>
    public bool StackAcrossTasks { get; set; }

    /// <summary>FTRL's alpha for the stacking head's per-id biases.</summary>
    public float StackingLearningRate { get; set; } = 0.05f;

    /// <summary>
    /// What the CVR tower learns from where a log has both labels: <c>clicks</c> (the conversion of each click, the
    /// default: it won on the synthetic stream) or <c>esmm</c> (ESMM's objective, Ma et al. 2018: pCTR on impressions
    /// plus pCTCVR = pCTR x pCVR against click-and-conversion on every impression, so both towers learn from both).
    /// </summary>
    public CvrLoss CvrLoss { get; set; } = CvrLoss.Clicks;

    /// <summary>
    /// Explicit interactions fed to each tower: <c>none</c> (the default), <c>dot</c> (pairwise dot products of the
    /// field embeddings, DLRM / FM style), <c>cross</c> (DCN-v2's cross layers) or <c>dotCross</c> (both). Their weights
    /// belong to the towers: the dense tier, as now.
    /// </summary>
    public Interactions Interactions { get; set; } = Interactions.None;

    /// <summary>Cross layers per tower when <see cref="Interactions"/> has them (1..8).</summary>
    public int CrossLayers { get; set; } = 2;

    /// <summary>
    /// Rank of each cross layer's matrix: 0 (the default) for a full d x d matrix, else W = U V' with U and V of
    /// d x rank (DCN-v2's low-rank form, for wide inputs).
    /// </summary>
    public int CrossRank { get; set; }
}
