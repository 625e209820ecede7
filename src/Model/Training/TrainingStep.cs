using Freshet.Model.Feedback;
using System.Runtime.InteropServices;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using TorchSharp;
using static TorchSharp.torch;

namespace Freshet.Model.Training;

/// <summary>
/// One step on one task's batch, against any <see cref="IParameterStore"/>: gather the batch's rows
/// (one pull per table, distinct ids only) → score the batch with the model as it is (progressive
/// validation) → forward/backward in TorchSharp → scatter the input gradient back to row gradients
/// (summed per id; a bag's mean spreads its gradient evenly) → push rows and dense gradients.
/// TorchSharp work happens between the awaits, inside one dispose scope on one thread.
/// </summary>
public sealed class TrainingStep
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

    private void Collect(IReadOnlyList<Sample> batch, bool train)
    {
        var n = batch.Count;
        long now = 0;
        for (var t = 0; t < _tables.Length; t++)
        {
            _tables[t].Clear();
            _tables[t].Train = train && Plan.Trains(_layout.Tables[t].Tier);
            _index[t].Clear();
        }
        var rateFields = _layout.RateFields;
        for (var r = 0; r < _rates.Length; r++)
        {
            _rates[r].Clear();
            _rates[r].Train = train && Plan.Trains(Tier.Changing);
            _rateIndex[r].Clear();
        }
        if (_rateSlots.Length < n * rateFields.Count) _rateSlots = new int[n * rateFields.Count];
        var idFields = _layout.IdFields;
        var bagFields = _layout.BagFields;
        var biasFields = _layout.BiasFields;
        if (_idSlots.Length < n * idFields.Count) _idSlots = new int[n * idFields.Count];
        if (_biasSlots.Length < n * biasFields.Count) _biasSlots = new int[n * biasFields.Count];
        if (_bagSlots.Length < n * bagFields.Count) _bagSlots = new int[n * bagFields.Count][];
        for (var s = 0; s < n; s++)
        {
            var sample = batch[s];
            now = Math.Max(now, sample.Time);
            for (var f = 0; f < idFields.Count; f++)
            {
                _idSlots[s * idFields.Count + f] = Intern(idFields[f].TableIndex, sample.Ids[f]);
            }
            for (var f = 0; f < bagFields.Count; f++)
            {
                // An attention bag keeps its last values, one per slot; the rest are neither read nor trained.
                var bag = sample.Bags[f].AsSpan();
                if (_layout.AttentionOf(f) is { } attention && bag.Length > attention.Length) bag = bag[^attention.Length..];
                var slots = _bagSlots[s * bagFields.Count + f];
                if (slots is null || slots.Length != bag.Length)
                {
                    slots = bag.Length == 0 ? [] : new int[bag.Length];
                    _bagSlots[s * bagFields.Count + f] = slots;
                }
                for (var k = 0; k < bag.Length; k++) slots[k] = Intern(bagFields[f].TableIndex, bag[k]);
            }
            for (var b = 0; b < biasFields.Count; b++)
            {
                _biasSlots[s * biasFields.Count + b] = Intern(biasFields[b].TableIndex, sample.Ids[biasFields[b].IdField]);
            }
            for (var r = 0; r < rateFields.Count; r++)
            {
                var id = sample.Ids[rateFields[r].IdField];
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_rateIndex[r], id, out var exists);
                if (!exists) slot = _rates[r].Add(id);
                _rateSlots[s * rateFields.Count + r] = slot;
            }
        }
        _rows.Now = now;
    }

    private int Intern(int table, ulong id)
    {
        var tb = _tables[table];
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_index[table], id, out var exists);
        if (!exists) slot = tb.Add(id);
        tb.Occurrences[slot]++;
        return slot;
    }

    /// <summary>Builds the input rows: each id field's row, each bag's mean row, each numeric value.</summary>
    private void Gather(IReadOnlyList<Sample> batch)
    {
        var n = batch.Count;
        var width = _layout.InputDim;
        if (_input.Length < n * width) _input = new float[n * width];
        var input = _input.AsSpan(0, n * width);
        input.Clear();
        var idFields = _layout.IdFields;
        var bagFields = _layout.BagFields;
        var numerics = _layout.NumericFields;
        for (var s = 0; s < n; s++)
        {
            var row = input.Slice(s * width, width);
            for (var f = 0; f < idFields.Count; f++)
            {
                var slot = idFields[f];
                var tb = _tables[slot.TableIndex];
                tb.Rows.AsSpan(_idSlots[s * idFields.Count + f] * tb.Dim, tb.Dim).CopyTo(row.Slice(slot.Offset, slot.Width));
            }
            for (var f = 0; f < bagFields.Count; f++)
            {
                var slot = bagFields[f];
                var tb = _tables[slot.TableIndex];
                var items = _bagSlots[s * bagFields.Count + f];
                if (items.Length == 0) continue;
                if (_layout.AttentionOf(f) is { } attention)
                {
                    // One slot per value kept (see Collect), most recent first, its mask at 1 and its age; the towers pool
                    // them against the candidate. Ages align with the whole bag (unknown ones, read 0, where they do not).
                    var bag = batch[s].Bags[f];
                    var ages = attention.Ages && batch[s].Ages is { } all && f < all.Length && all[f] is { } a && a.Length == bag.Length ? a : null;
                    for (var k = 0; k < items.Length; k++)
                    {
                        tb.Rows.AsSpan(items[items.Length - 1 - k] * tb.Dim, tb.Dim).CopyTo(row.Slice(attention.SlotsOffset + k * attention.Width, attention.Width));
                        row[attention.MaskOffset + k] = 1;
                        if (ages is not null) row[attention.AgeOffset + k] = AttentionSlot.AgeInput(ages[bag.Length - 1 - k]);
                    }
                    continue;
                }
                var dest = row.Slice(slot.Offset, slot.Width);
                var scale = 1f / items.Length;
                foreach (var item in items)
                {
                    var src = tb.Rows.AsSpan(item * tb.Dim, tb.Dim);
                    for (var k = 0; k < dest.Length; k++) dest[k] += src[k] * scale;
                }
            }
            var biasFields = _layout.BiasFields;
            for (var b = 0; b < biasFields.Count; b++)
            {
                var slot = biasFields[b];
                var tb = _tables[slot.TableIndex];
                tb.Rows.AsSpan(_biasSlots[s * biasFields.Count + b] * tb.Dim, tb.Dim).CopyTo(row.Slice(slot.Offset, BiasSlot.Width));
            }
            var values = batch[s].Numerics;
            for (var f = 0; f < numerics.Count; f++) row[numerics[f].Offset] = values[f];
            var rateFields = _layout.RateFields;
            for (var r = 0; r < rateFields.Count; r++)
            {
                _rateInputs.AsSpan((s * rateFields.Count + r) * RateSlot.Width, RateSlot.Width).CopyTo(row.Slice(rateFields[r].Offset, RateSlot.Width));
            }
        }
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

    /// <summary>
    /// Each sample's inputs of each rate, per event: its key's settled counts, plus every known event of that key
    /// strictly before the sample's time (events still pending in the store, and, when training, the earlier samples
    /// of this very batch). Samples at the same time never see each other's labels, and a delayed label's positive
    /// counts only from when it arrived. When training, the batch's own events are listed for the push.
    /// </summary>
    private void RateInputs(IReadOnlyList<Sample> batch, TaskKind task, bool train)
    {
        var rateFields = _layout.RateFields;
        var rates = rateFields.Count;
        if (rates == 0) return;
        var n = batch.Count;
        if (_rateInputs.Length < n * rates * RateSlot.Width) _rateInputs = new float[n * rates * RateSlot.Width];
        if (_order.Length < n)
        {
            _order = new int[n];
            _times = new long[n];
        }
        for (var s = 0; s < n; s++)
        {
            _order[s] = s;
            _times[s] = batch[s].Time;
        }
        Array.Sort(_times, _order, 0, n);
        for (var r = 0; r < rates; r++)
        {
            var rb = _rates[r];
            if (rb.Train && rateFields[r].Task == task)
            {
                for (var s = 0; s < n; s++)
                {
                    var sample = batch[s];
                    var slot = _rateSlots[s * rates + r];
                    var (count, first, second) = LabelEvents.Of(sample);
                    if (count > 0) rb.Events.Add((slot, first.Time, first.Positives, first.Samples));
                    if (count > 1) rb.Events.Add((slot, second.Time, second.Positives, second.Samples));
                }
            }
            _events.Clear();
            _events.AddRange(rb.Pending);
            _events.AddRange(rb.Events);
            _events.Sort((a, b) => a.Time.CompareTo(b.Time));
            if (_running.Length < rb.Count * 2) _running = new double[rb.Count * 2];
            rb.Settled.AsSpan(0, rb.Count * 2).CopyTo(_running);
            var e = 0;
            var prior = rateFields[r].Prior;
            for (var k = 0; k < n; k++)
            {
                var s = _order[k];
                var time = _times[k];
                for (; e < _events.Count && _events[e].Time < time; e++)
                {
                    _running[2 * _events[e].Slot] += _events[e].Positives;
                    _running[2 * _events[e].Slot + 1] += _events[e].Samples;
                }
                var slot = _rateSlots[s * rates + r];
                Statistics.RateTable.Features(_running[2 * slot], _running[2 * slot + 1], rb.TotalPositives, rb.TotalSamples, prior,
                    _rateInputs.AsSpan((s * rates + r) * RateSlot.Width, RateSlot.Width));
            }
        }
    }

    /// <summary>Sums the input gradient per distinct id, into each training table's gradient buffer.</summary>
    private void Scatter(IReadOnlyList<Sample> batch, TaskKind task)
    {
        var n = batch.Count;
        var width = _layout.InputDim;
        foreach (var t in _tables)
        {
            if (t.Train) t.GradientSpan.Clear();
        }
        var idFields = _layout.IdFields;
        var bagFields = _layout.BagFields;
        // The loss is the batch's sum over a full step's size (see Compute); rows get the gradient of the batch's summed
        // loss (each sample's own gradient, whatever the batch size), which is the scale per-row Adagrad and FTRL are tuned for.
        var perSample = (float)Math.Max(n, _layout.BatchSizeOf(task));
        for (var s = 0; s < n; s++)
        {
            var g = _inputGrad.AsSpan(s * width, width);
            for (var f = 0; f < idFields.Count; f++)
            {
                var slot = idFields[f];
                var tb = _tables[slot.TableIndex];
                if (!tb.Train) continue;
                Add(tb.Gradients.AsSpan(_idSlots[s * idFields.Count + f] * tb.Dim, tb.Dim), g.Slice(slot.Offset, slot.Width), perSample);
            }
            for (var f = 0; f < bagFields.Count; f++)
            {
                var slot = bagFields[f];
                var tb = _tables[slot.TableIndex];
                if (!tb.Train) continue;
                var items = _bagSlots[s * bagFields.Count + f];
                if (items.Length == 0) continue;
                if (_layout.AttentionOf(f) is { } attention)
                {
                    for (var k = 0; k < items.Length; k++)
                    {
                        Add(tb.Gradients.AsSpan(items[items.Length - 1 - k] * tb.Dim, tb.Dim), g.Slice(attention.SlotsOffset + k * attention.Width, attention.Width), perSample);
                    }
                    continue;
                }
                var scale = perSample / items.Length;
                foreach (var item in items) Add(tb.Gradients.AsSpan(item * tb.Dim, tb.Dim), g.Slice(slot.Offset, slot.Width), scale);
            }
            var biasFields = _layout.BiasFields;
            for (var b = 0; b < biasFields.Count; b++)
            {
                var slot = biasFields[b];
                var tb = _tables[slot.TableIndex];
                if (!tb.Train) continue;
                Add(tb.Gradients.AsSpan(_biasSlots[s * biasFields.Count + b] * tb.Dim, tb.Dim), g.Slice(slot.Offset, BiasSlot.Width), perSample);
            }
        }
    }

    private static void Add(Span<float> into, ReadOnlySpan<float> values, float scale)
    {
        for (var k = 0; k < into.Length; k++) into[k] += values[k] * scale;
    }
}
