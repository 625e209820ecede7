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
    private readonly Linear? stack;
    private readonly CrossNetwork? cross;
    private readonly int _deepDim;
    private readonly long[] _rateColumns;
    private readonly long[] _biasColumns;
    private readonly long[] _pairs = [];
    private readonly (long Offset, int Width)[] _interacting = [];
    private readonly ModuleList<Linear> projections = new();
    private readonly int[] _projectionOf = [];
    private readonly int _fields;
    private readonly Schema.AttentionSlot[] _attention = [];
    private readonly ModuleList<Sequential> units = new();
    private readonly ParameterList recency = new();

    /// <summary>Hidden width of each attention unit (DIN's activation unit; its paper uses 80 then 40 over wider embeddings).</summary>
    public const int AttentionUnits = 32;

    /// <param name="inputDim">Columns the deep part reads (the first of the input).</param>
    /// <param name="rateColumns">The stacking head's weighted inputs (running rates' log-odds against the global rate); empty: none.</param>
    /// <param name="biasColumns">The stacking head's per-id biases, added as they are; empty: none.</param>
    private readonly List<BatchNorm> _norms = [];

    /// <summary>The next training batch's weight over every batch-norm layer's running statistics (see <see cref="BatchNorm.StatisticsWeight"/>).</summary>
    public double StatisticsWeight
    {
        set
        {
            foreach (var bn in _norms) bn.StatisticsWeight = value;
        }
    }

    /// <param name="interactionOffsets">The first column of each embedding whose pairwise dot products the tower reads beside its input (<see cref="Schema.FeatureLayout.InteractionOffsets"/>); empty or one: none.</param>
    /// <param name="interactionWidth">The width the dot products are taken at.</param>
    /// <param name="interactionWidths">Each embedding's width; one of another width is projected to <paramref name="interactionWidth"/> by a learned matrix. Null: all are that wide.</param>
    /// <param name="crossLayers">DCN-v2 cross layers over the deep input (with the dot products); 0: none.</param>
    /// <param name="crossRank">Each cross layer's rank; 0: full.</param>
    /// <param name="ownRates">How many of <paramref name="rateColumns"/> (the first) start weighted; null: all of them.</param>
    /// <param name="attention">Bags pooled by target attention (<see cref="Schema.FeatureLayout.AttentionFields"/>): each gets a unit whose output starts at 0, so the pooling starts as a mean.</param>
    public Tower(string name, int inputDim, IReadOnlyList<int> hidden, double batchNormMomentum, int[]? rateColumns = null, int[]? biasColumns = null,
        int[]? interactionOffsets = null, int interactionWidth = 0, int crossLayers = 0, int crossRank = 0, int? ownRates = null, int[]? interactionWidths = null,
        IReadOnlyList<Schema.AttentionSlot>? attention = null) : base(name)
    {
        _deepDim = inputDim;
        _rateColumns = [.. (rateColumns ?? []).Select(c => (long)c)];
        _biasColumns = [.. (biasColumns ?? []).Select(c => (long)c)];
        var offsets = interactionOffsets ?? [];
        if (offsets.Length >= 2)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(interactionWidth, 1);
            _fields = offsets.Length;
            var widths = interactionWidths ?? [.. offsets.Select(_ => interactionWidth)];
            if (widths.Length != offsets.Length) throw new ArgumentException("one width per interacting embedding", nameof(interactionWidths));
            _interacting = [.. offsets.Zip(widths, (o, w) => ((long)o, w))];
            _projectionOf = new int[_fields];
            for (var f = 0; f < _fields; f++)
            {
                _projectionOf[f] = -1;
                if (widths[f] == interactionWidth) continue;
                _projectionOf[f] = projections.Count;
                projections.Add(Linear(widths[f], interactionWidth, hasBias: false));
            }
            _pairs = [.. Enumerable.Range(0, _fields).SelectMany(i => Enumerable.Range(i + 1, _fields - i - 1).Select(j => (long)(i * _fields + j)))];
        }
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var width = inputDim + _pairs.Length;
        if (crossLayers > 0) cross = new CrossNetwork("cross", width, crossLayers, crossRank);
        for (var i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"fc{i + 1}", Linear(width, hidden[i])));
            var bn = new BatchNorm(hidden[i], batchNormMomentum);
            _norms.Add(bn);
            layers.Add(($"bn{i + 1}", bn));
            layers.Add(($"relu{i + 1}", ReLU()));
            width = hidden[i];
        }
        output = Linear(width, 1);
        layers.Add(("out", output));
        body = Sequential(layers);
        wide = Linear(inputDim + _pairs.Length, 1, hasBias: false);
        if (_rateColumns.Length > 0)
        {
            // Starts as the mean of the task's own rates' log-odds (what a counter would say), the other task's at 0, then
            // learns each one's weight.
            stack = Linear(_rateColumns.Length, 1, hasBias: false);
            var own = Math.Clamp(ownRates ?? _rateColumns.Length, 1, _rateColumns.Length);
            using var _ = no_grad();
            using var mean = (1.0 / own).ToScalar();
            stack.weight!.zero_();
            stack.weight!.narrow(1, 0, own).fill_(mean);
        }
        // Built last: a tower without attention draws the same initial weights as before it existed.
        _attention = [.. attention ?? []];
        foreach (var a in _attention)
        {
            if (a.Offset + a.Width > inputDim || a.TargetOffset + a.Width > inputDim) throw new ArgumentException("an attention bag and its target sit in the deep columns", nameof(attention));
            var last = Linear(AttentionUnits, 1);
            using (no_grad())
            {
                last.weight!.zero_();
                last.bias!.zero_();
            }
            units.Add(Sequential(("fc", Linear(4 * a.Width + (a.Ages ? 1 : 0), AttentionUnits)), ("relu", ReLU()), ("out", last)));
            // Outside any dispose scope the caller (the model's construction) has open: a module's own tensors live with it.
            var initial = zeros(a.Length).DetachFromDisposeScope();
            var bias = new Parameter(initial);
            bias.DetachFromDisposeScope();
            recency.Add(bias);
        }
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
        if (double.IsNaN(rate)) return; // no rate known: keep the bias
        var p = Math.Clamp(rate, 1e-4, 1 - 1e-4);
        using var _ = no_grad();
        using var logOdds = Math.Log(p / (1 - p)).ToScalar(); // disposed after the call, so alive during it
        output.bias!.fill_(logOdds);
    }

    /// <summary>
    /// Logits, one per row of <paramref name="input"/> ([batch]): the deep part over the first columns, plus the
    /// stacking head's weighted rates and per-id biases when the tower has them.
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        var deep = input.shape[1] == _deepDim ? input : input.narrow(1, 0, _deepDim);
        for (var i = 0; i < _attention.Length; i++) deep = Attend(input, deep, i);
        if (_pairs.Length > 0) deep = cat([deep, PairwiseDots(deep)], 1);
        if (cross is not null) deep = cross.call(deep);
        var logit = body.call(deep).add(wide.call(deep), One);
        if (stack is not null)
        {
            using var columns = tensor(_rateColumns);
            logit = logit.add(stack.call(input.index_select(1, columns)), One);
        }
        if (_biasColumns.Length > 0)
        {
            using var columns = tensor(_biasColumns);
            logit = logit.add(input.index_select(1, columns).sum(1, keepdim: true), One);
        }
        return logit.squeeze(-1);
    }

    /// <summary>
    /// Bag <paramref name="i"/> pooled against its candidate, written over the bag's columns of <paramref name="deep"/>:
    /// sum over the slots of mask x (1 + a(candidate, value[, age]) + recency) x value, over the number of values (DIN's
    /// weights are not normalised to 1, so how strongly a history speaks to a candidate survives the pooling).
    /// </summary>
    private Tensor Attend(Tensor input, Tensor deep, int i)
    {
        using var scope = NewDisposeScope();
        var a = _attention[i];
        var values = input.narrow(1, a.SlotsOffset, a.Length * a.Width).view(-1, a.Length, a.Width);
        var mask = input.narrow(1, a.MaskOffset, a.Length);
        var candidate = deep.narrow(1, a.TargetOffset, a.Width).unsqueeze(1).expand(-1, a.Length, -1);
        var relation = a.Ages
            ? cat([candidate, values, candidate * values, candidate - values, input.narrow(1, a.AgeOffset, a.Length).unsqueeze(-1)], 2)
            : cat([candidate, values, candidate * values, candidate - values], 2);
        var weights = mask * units[i].call(relation).squeeze(-1).add(recency[i]).add(One);
        var pooled = (weights.unsqueeze(-1) * values).sum(1) / mask.sum(1, keepdim: true).clamp_min(One);
        var after = _deepDim - a.Offset - a.Width;
        Tensor[] parts = after > 0 ? [deep.narrow(1, 0, a.Offset), pooled, deep.narrow(1, a.Offset + a.Width, after)] : [deep.narrow(1, 0, a.Offset), pooled];
        return cat(parts, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Each pair's dot product of the interacting embeddings (projected to one width), [batch, pairs] in (i, j), i &lt; j order.</summary>
    private Tensor PairwiseDots(Tensor deep)
    {
        using var scope = NewDisposeScope();
        var parts = new Tensor[_fields];
        for (var f = 0; f < _fields; f++)
        {
            var (offset, width) = _interacting[f];
            var embedding = deep.narrow(1, offset, width);
            parts[f] = _projectionOf[f] < 0 ? embedding : projections[_projectionOf[f]].call(embedding);
        }
        using var pairs = tensor(_pairs);
        var embeddings = torch.stack(parts, 1);
        var gram = embeddings.bmm(embeddings.transpose(1, 2));
        return gram.reshape(-1, _fields * _fields).index_select(1, pairs).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            wide.Dispose();
            stack?.Dispose();
            cross?.Dispose();
            projections.Dispose();
            units.Dispose();
            recency.Dispose();
        }
        base.Dispose(disposing);
    }
}
