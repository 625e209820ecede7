using Freshet.Model.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using static TorchSharp.torch;

namespace Freshet.Model.Training;

/// <summary>
/// One step on one task's batch, against any <see cref="IParameterStore"/>: gather the batch's rows
/// (one pull per table, distinct ids only) → score the batch with the model as it is (progressive
/// validation) → forward/backward in TorchSharp → scatter the input gradient back to row gradients
/// (summed per id; a bag's mean spreads its gradient evenly) → push rows and dense gradients.
/// TorchSharp work happens between the awaits, inside one dispose scope on one thread.
/// </summary>
public sealed partial class TrainingStep
{
    private readonly IParameterStore _store;
    private readonly FeatureLayout _layout;
    private readonly TableBatch[] _tables;
    private readonly Dictionary<ulong, int>[] _index;
    private readonly RateBatch[] _rates;
    private readonly Dictionary<ulong, int>[] _rateIndex;
    private readonly RowBatch _rows;
    private int[] _idSlots = [];   // [sample * idFields + field] -> distinct-id index in the field's table
    private int[][] _bagSlots = []; // [sample * bagFields + field] -> distinct-id indexes
    private int[] _rateSlots = [];  // [sample * rateFields + rate] -> distinct-id index in the rate's batch
    private int[] _biasSlots = [];  // [sample * biasFields + bias] -> distinct-id index in the bias's table
    private float[] _input = [];
    private float[] _inputGrad = [];
    private float[] _rateInputs = [];  // [(sample * rateFields + rate) * 2 ..] -> the sample's two inputs of that rate
    private int[] _order = [];
    private long[] _times = [];
    private readonly List<(int Slot, long Time, double Positives, double Samples)> _events = [];
    private double[] _running = [];

    public TrainingStep(IParameterStore store, TrainingPlan plan)
    {
        _store = store;
        _layout = store.Layout;
        Plan = plan;
        _tables = [.. _layout.Tables.Select((t, i) => new TableBatch(i, t.Dim))];
        _index = [.. _layout.Tables.Select(_ => new Dictionary<ulong, int>())];
        _rates = [.. _layout.RateFields.Select((_, i) => new RateBatch(i))];
        _rateIndex = [.. _layout.RateFields.Select(_ => new Dictionary<ulong, int>())];
        _rows = new RowBatch(_tables, _rates);
    }

    public TrainingPlan Plan { get; set; }

    /// <summary>The number the next training step carries to the store (see <see cref="RowBatch.Step"/>).</summary>
    public long StepNumber { get; set; } = 1;

    /// <summary>The time no sample scored after this step is older than (see <see cref="RowBatch.Watermark"/>); set by the trainer around it.</summary>
    public long Watermark { get; set; } = long.MaxValue;

    /// <summary>The last batch's model input rows (batch x input width), for inspection and tests.</summary>
    public ReadOnlySpan<float> LastInput => _input.AsSpan(0, _lastCount * _layout.InputDim);

    private int _lastCount;
    private bool _ctrTrained;
    private bool _cvrTrained;

    /// <summary>The last step's distinct ids and gradients per table (for tests and inspection).</summary>
    public RowBatch LastRows => _rows;

    /// <summary>
    /// Scores <paramref name="batch"/> (all samples of <paramref name="task"/>) with the current
    /// weights into <paramref name="scores"/>, then, when <paramref name="train"/>, updates the
    /// tiers the strategy trains. Returns the training loss (NaN when not trained).
    /// </summary>
    /// <param name="ctcvrScores">For a CTR batch of a log with both labels: receives pCTCVR = pCTR x pCVR of each impression.</param>
    public async ValueTask<float> RunAsync(IReadOnlyList<Sample> batch, TaskKind task, bool train, float[] scores, CancellationToken cancellationToken = default, float[]? ctcvrScores = null)
    {
        var n = batch.Count;
        train &= Plan.Strategy != Strategy.Base && n > 1; // batch-norm needs two samples to train on
        Collect(batch, train);
        _rows.Watermark = Watermark;
        await _store.PullRowsAsync(_rows, cancellationToken);
        await _store.PullDenseAsync(cancellationToken);
        RateInputs(batch, task, train);
        Gather(batch);
        _lastCount = n;
        // ESMM: the other task's tower learns through pCTCVR too, once it has taken a step of its own here.
        var partner = task == TaskKind.Ctr ? TaskKind.Cvr : TaskKind.Ctr;
        var esmm = train && _layout.Esmm && (task == TaskKind.Ctr ? _cvrTrained : _ctrTrained);
        var loss = Compute(batch, task, train, scores, esmm ? partner : null, ctcvrScores);
        if (!train)
        {
            return float.NaN;
        }
        double positives = 0;
        for (var i = 0; i < n; i++) positives += batch[i].Label;
        _rows.Step = StepNumber;
        await _store.PushDenseAsync(task, positives / n, StepNumber, cancellationToken);
        // The partner was trained before, so the label rate (which only sets a tower's first output bias) is not read.
        if (esmm) await _store.PushDenseAsync(partner, double.NaN, StepNumber, cancellationToken);
        if (task == TaskKind.Ctr) _ctrTrained = true;
        else _cvrTrained = true;
        var rowsTrain = _tables.Any(t => t.Train);
        if (rowsTrain) Scatter(batch, task);
        if (rowsTrain || _rates.Any(r => r.Train))
        {
            await _store.PushRowGradientsAsync(_rows, cancellationToken);
        }
        StepNumber++;
        return loss;
    }

    /// <summary>Scores without training (serving-mode forward) into <paramref name="scores"/>.</summary>
    public ValueTask<float> ScoreAsync(IReadOnlyList<Sample> batch, TaskKind task, float[] scores, CancellationToken cancellationToken = default) =>
        RunAsync(batch, task, false, scores, cancellationToken);

    /// <summary>
    /// Serving's forward: each row's CTR and CVR with the weights as they are, from one gather (both towers read the same
    /// input). Synchronous, for a store that reads synchronously (<see cref="InProcessParameterStore"/>); any other store
    /// is refused rather than waited on. A step is not thread-safe: a caller scoring in parallel keeps one per thread.
    /// </summary>
    public void ScoreBoth(IReadOnlyList<Sample> rows, Span<float> ctr, Span<float> cvr)
    {
        var n = rows.Count;
        if (ctr.Length < n || cvr.Length < n) throw new ArgumentException($"{n} rows need {n} scores of each task; got {ctr.Length} and {cvr.Length}");
        Collect(rows, train: false);
        _rows.Watermark = Watermark;
        var pull = _store.PullRowsAsync(_rows);
        if (!pull.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException($"{_store.GetType().Name} reads rows asynchronously: score through ScoreAsync, or from an in-process store");
        }
        pull.GetAwaiter().GetResult();
        RateInputs(rows, TaskKind.Ctr, train: false);
        Gather(rows);
        _lastCount = n;
        if (n == 0) return;
        var width = _layout.InputDim;
        var model = _store.ComputeModel;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = empty([n, width], dtype: ScalarType.Float32);
        x.data<float>().CopyFrom(_input.AsSpan(0, n * width));
        model.Ctr.eval();
        model.Cvr.eval();
        sigmoid(model.Ctr.call(x)).data<float>().CopyTo(ctr[..n]);
        sigmoid(model.Cvr.call(x)).data<float>().CopyTo(cvr[..n]);
    }

    private float Compute(IReadOnlyList<Sample> batch, TaskKind task, bool train, float[] scores, TaskKind? esmmPartner, float[]? ctcvrScores)
    {
        var n = batch.Count;
        var width = _layout.InputDim;
        var model = _store.ComputeModel;
        var tower = model.TowerOf(task);
        using var scope = NewDisposeScope();
        // Copied into tensors torch allocates (aligned), not pinned managed arrays: the CPU kernels pick
        // code paths by alignment, and the same batch must give the same bits in every store.
        var x = empty([n, width], dtype: ScalarType.Float32);
        x.data<float>().CopyFrom(_input.AsSpan(0, n * width));
        using (no_grad())
        {
            tower.eval();
            var p = sigmoid(tower.call(x));
            p.data<float>().CopyTo(scores.AsSpan(0, n));
            if (ctcvrScores is not null && task == TaskKind.Ctr && _layout.BothLabels)
            {
                model.Cvr.eval();
                (p * sigmoid(model.Cvr.call(x))).data<float>().CopyTo(ctcvrScores.AsSpan(0, n));
            }
        }
        if (!train)
        {
            return float.NaN;
        }
        var labels = new float[n];
        for (var s = 0; s < n; s++) labels[s] = batch[s].Label;
        var y = empty([n], dtype: ScalarType.Float32);
        y.data<float>().CopyFrom(labels);
        // A delayed-feedback correction's samples are importance-weighted by the scores just computed (the model's own
        // estimate before this update, so the weights are not differentiated); final labels weigh 1.
        Tensor? w = null;
        if (batch.Any(s => s.Arrival != LabelArrival.Known))
        {
            var weights = new float[n];
            for (var s = 0; s < n; s++) weights[s] = DelayedFeedbacks.Weight(batch[s].Arrival, batch[s].Label, scores[s]);
            w = empty([n], dtype: ScalarType.Float32);
            w.data<float>().CopyFrom(weights);
        }
        var trainsRows = _tables.Any(t => t.Train);
        if (trainsRows) x.requires_grad_(true);
        tower.train();
        tower.zero_grad();
        // Batch-norm statistics estimate what this tower scores: a batch moves them by its share of a full step, and a
        // late positive (a row already counted when it trained as provisional) not at all.
        tower.StatisticsWeight = batch.Count(s => !s.Arrival.IsRepeat()) / (double)_layout.BatchSizeOf(task);
        var logits = tower.call(x);
        Tensor loss;
        // The loss sums over the batch and divides by a full step's size: a short batch (cut by the wait for more samples,
        // a stream's end) counts as its share of a full one. Averaged over its own rows instead, a short batch of late
        // positives weighed as much as a full batch of provisional negatives, and a live loop drifted to over-predicting.
        var full = (double)Math.Max(n, _layout.BatchSizeOf(task));
        if (esmmPartner is not { } other)
        {
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y, weight: w, reduction: nn.Reduction.Sum) / full;
        }
        else
        {
            // ESMM's objective, L_ctr + L_ctcvr over impressions, with pCTCVR = pCTR x pCVR, each term applied when
            // its label is known: an unclicked impression's (neither click nor conversion) on its CTR step, a clicked
            // one's (converted or not) on its click's CVR step. Log-likelihoods are taken in log space for stability.
            var partner = model.TowerOf(other);
            partner.train();
            partner.zero_grad();
            // The partner learns through pCTCVR here, but these rows are not its population (a CVR step's clicks for the
            // CTR tower): its statistics stay as its own steps set them.
            partner.StatisticsWeight = 0;
            var logP = nn.functional.logsigmoid(logits) + nn.functional.logsigmoid(partner.call(x));
            var logNotP = log(-expm1(logP.clamp_max(-1e-6f)));
            loss = task == TaskKind.Ctr
                ? (w is null
                    ? nn.functional.binary_cross_entropy_with_logits(logits, y, reduction: nn.Reduction.Sum) - ((1 - y) * logNotP).sum()
                    : nn.functional.binary_cross_entropy_with_logits(logits, y, weight: w, reduction: nn.Reduction.Sum) - (w * (1 - y) * logNotP).sum()) / full
                : (w is null ? -(y * logP + (1 - y) * logNotP).sum() : -(w * (y * logP + (1 - y) * logNotP)).sum()) / full;
        }
        loss.backward();
        if (trainsRows)
        {
            if (_inputGrad.Length < n * width) _inputGrad = new float[n * width];
            x.grad!.data<float>().CopyTo(_inputGrad.AsSpan(0, n * width));
        }
        tower.eval();
        tower.StatisticsWeight = 1;
        if (esmmPartner is { } done)
        {
            model.TowerOf(done).eval();
            model.TowerOf(done).StatisticsWeight = 1;
        }
        return (float)(loss.item<float>() * full / n); // reported per row
    }
}
