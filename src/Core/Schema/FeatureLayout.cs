namespace Freshet.Model.Schema;

/// <summary>
/// The model input derived from a schema: the embedding tables and, per field, its table and
/// offset. The input row of a sample is every field's slot in schema order.
/// </summary>
public sealed class FeatureLayout
{
    public const int DefaultDim = 16;
    public const int DefaultMaxLength = 50;

    private FeatureLayout(List<TableSpec> tables, List<FieldSlot> ids, List<FieldSlot> bags, List<FieldSlot> numerics, List<RateSlot> rates, List<BiasSlot> biases, int deepDim, int inputDim, bool stacking, bool bothLabels, bool esmm)
    {
        BothLabels = bothLabels;
        Esmm = esmm;
        RateFields = rates;
        Tables = tables;
        IdFields = ids;
        BagFields = bags;
        NumericFields = numerics;
        BiasFields = biases;
        DeepDim = deepDim;
        InputDim = inputDim;
        Stacking = stacking;
    }

    /// <summary>Whether the log has clicks and conversions: impressions then carry both labels, and pCTCVR is scored on them.</summary>
    public bool BothLabels { get; }

    /// <summary>Whether the CVR tower also learns through pCTCVR on impressions (<see cref="ModelSpec.CvrLoss"/> esmm, both labels).</summary>
    public bool Esmm { get; }

    /// <summary>Whether each task's head stacks fast terms on the deep tower (<see cref="ModelSpec.Stacking"/>).</summary>
    public bool Stacking { get; }

    /// <summary>Samples per full step of each task (<see cref="ModelSpec.BatchSize"/>, <see cref="ModelSpec.CvrBatchSize"/>): how far one step moves batch-norm statistics.</summary>
    public int BatchSizeOf(Data.TaskKind task) => task == Data.TaskKind.Cvr ? _cvrBatchSize : _batchSize;

    private int _batchSize = 256;
    private int _cvrBatchSize = 256;

    /// <summary>
    /// The stacking head's per-id biases, one per id field (tables <c>{field}.bias</c> in the field's tier);
    /// their columns follow the deep input.
    /// </summary>
    public IReadOnlyList<BiasSlot> BiasFields { get; }

    /// <summary>Columns of the input the deep tower reads: every schema field's. The stacking head's own columns come after, then attention slots.</summary>
    public int DeepDim { get; }

    /// <summary>The input columns the stacking head of <paramref name="task"/> weighs: each of its rates' log-odds against the global rate.</summary>
    public int[] StackRateColumns(Data.TaskKind task) => !Stacking ? [] :
        [.. RateFields.Where(r => r.Task == task).Select(r => r.Offset), .. StackAcrossTasks ? RateFields.Where(r => r.Task != task).Select(r => r.Offset) : []];

    /// <summary>How many of <see cref="StackRateColumns"/> are the task's own rates (the first ones); the rest are the other task's.</summary>
    public int StackOwnRates(Data.TaskKind task) => Stacking ? RateFields.Count(r => r.Task == task) : 0;

    /// <summary>Each task's stacking head also reads the other task's rates (<see cref="ModelSpec.StackAcrossTasks"/>).</summary>
    public bool StackAcrossTasks { get; private init; }

    /// <summary>The input columns the stacking head of <paramref name="task"/> adds as they are: its per-id biases.</summary>
    public int[] StackBiasColumns(Data.TaskKind task) => [.. BiasFields.Select(b => b.Column(task))];

    /// <summary>
    /// The embeddings whose pairwise dot products each tower reads (<see cref="ModelSpec.Interactions"/>): the first
    /// column of every id and bag field, in input order; empty when interactions are off or fewer than two fields embed.
    /// </summary>
    public int[] InteractionOffsets { get; private init; } = [];

    /// <summary>The width of each embedding in <see cref="InteractionOffsets"/>; one of another width than <see cref="InteractionWidth"/> is projected to it.</summary>
    public int[] InteractionWidths { get; private init; } = [];

    /// <summary>The width the dot products are taken at: the most common embedding width (the widest of equally common ones).</summary>
    public int InteractionWidth { get; private init; }

    public IReadOnlyList<TableSpec> Tables { get; }

    public IReadOnlyList<FieldSlot> IdFields { get; }

    public IReadOnlyList<FieldSlot> BagFields { get; }

    /// <summary>The bags pooled by target attention, in <see cref="BagFields"/> order; their slots are the input's last columns.</summary>
    public IReadOnlyList<AttentionSlot> AttentionFields { get; private init; } = [];

    private AttentionSlot?[] _attentionByBag = [];

    /// <summary>The attention slot of bag <paramref name="bag"/>, or null when it is mean-pooled (read per sample by the step: an index, not a search).</summary>
    public AttentionSlot? AttentionOf(int bag) => _attentionByBag[bag];

    /// <summary>Length of a sequence field when the schema gives none.</summary>
    public const int DefaultSequenceLength = 20;

    public IReadOnlyList<FieldSlot> NumericFields { get; }

    public IReadOnlyList<RateSlot> RateFields { get; }

    public int InputDim { get; }

    public int TableIndex(string name)
    {
        for (var i = 0; i < Tables.Count; i++)
        {
            if (Tables[i].Name == name) return i;
        }
        return -1;
    }

    public static FeatureLayout From(FeatureSchema schema)
    {
        var tables = new List<TableSpec>();
        var ids = new List<FieldSlot>();
        var bags = new List<FieldSlot>();
        var numerics = new List<FieldSlot>();
        var rates = new List<RateSlot>();
        var offset = 0;
        var m = schema.Model;
        var idFieldNames = schema.Fields.Where(x => x.Kind == FieldKind.Id).Select(x => x.Name).ToList();
        foreach (var f in schema.Fields)
        {
            if (f.Kind == FieldKind.Rate)
            {
                rates.Add(new RateSlot(f, idFieldNames.IndexOf(f.Of!), f.Label == "conversion" ? Data.TaskKind.Cvr : Data.TaskKind.Ctr, offset, f.Prior ?? 10,
                    f.MaxRows, f.ExpireAfter is null ? null : Durations.Parse(f.ExpireAfter, $"field '{f.Name}' expireAfter")));
                offset += RateSlot.Width;
                continue;
            }
            if (f.Kind == FieldKind.Numeric)
            {
                numerics.Add(new FieldSlot(f, -1, offset, 1));
                offset += 1;
                continue;
            }
            // A sequence is embedded in the table of the id field it records, at that table's width.
            var tableName = TableOf(schema, f)!;
            var t = tables.FindIndex(x => x.Name == tableName);
            if (t < 0)
            {
                var owner = schema.Fields.First(x => x.Kind is FieldKind.Id or FieldKind.Ids && x.TableName == tableName);
                tables.Add(new TableSpec(
                    tableName,
                    owner.Dim ?? DefaultDim,
                    owner.Tier ?? Tier.Changing,
                    owner.MinCount ?? 1,
                    owner.ExpireAfter is null ? null : Durations.Parse(owner.ExpireAfter, $"field '{owner.Name}' expireAfter"),
                    owner.MaxRows,
                    owner.Optimizer ?? m.SparseOptimizer,
                    owner.LearningRate ?? ((owner.Optimizer ?? m.SparseOptimizer) == SparseOptimizerKind.Ftrl ? m.FtrlAlpha : m.SparseLearningRate)));
                t = tables.Count - 1;
            }
            var dim = f.Kind == FieldKind.Sequence ? tables[t].Dim : f.Dim ?? DefaultDim;
            var slot = new FieldSlot(f, t, offset, dim);
            (f.Kind == FieldKind.Id ? ids : bags).Add(slot);
            offset += dim;
        }
        var deepDim = offset;
        var biases = new List<BiasSlot>();
        if (m.Stacking)
        {
            // The stacking head's own inputs, after the deep ones: a running rate of every id field for every label
            // the schema has (unless the schema counts it already), and a per-id bias per id field.
            var idFields = schema.Fields.Where(x => x.Kind == FieldKind.Id).ToList();
            var labels = new List<(string Label, Data.TaskKind Task)>();
            if (schema.Labels.Click is not null) labels.Add(("click", Data.TaskKind.Ctr));
            if (schema.Labels.Conversion is not null) labels.Add(("conversion", Data.TaskKind.Cvr));
            for (var i = 0; i < idFields.Count; i++)
            {
                var f = idFields[i];
                var table = tables[ids[i].TableIndex];
                foreach (var (label, task) in labels)
                {
                    if (rates.Any(r => r.IdField == i && r.Task == task)) continue;
                    var name = $"{f.Name}.rate.{Data.TaskKinds.Name(task)}";
                    rates.Add(new RateSlot(new FieldSpec { Name = name, Kind = FieldKind.Rate, Of = f.Name, Label = label }, i, task, offset, 10, table.MaxRows, table.ExpireAfter));
                    offset += RateSlot.Width;
                }
                tables.Add(new TableSpec($"{f.Name}.bias", BiasSlot.Width, table.Tier, table.MinCount, table.ExpireAfter, table.MaxRows, SparseOptimizerKind.Ftrl, m.StackingLearningRate, InitScale: 0));
                biases.Add(new BiasSlot(i, tables.Count - 1, offset));
                offset += BiasSlot.Width;
            }
        }
        // A bag pooled by attention keeps each value's row in its own slot, after every other column.
        var attention = new List<AttentionSlot>();
        var attentionByBag = new AttentionSlot?[bags.Count];
        for (var b = 0; b < bags.Count; b++)
        {
            var f = bags[b].Field;
            if (f.Pooling != BagPooling.Attention) continue;
            var target = ids.First(x => x.Field.Name == AttentionTarget(schema, f));
            var length = f.MaxLength ?? (f.Kind == FieldKind.Sequence ? DefaultSequenceLength : DefaultMaxLength);
            var slot = new AttentionSlot(b, bags[b].Offset, bags[b].Width, target.Offset, offset, length, Ages: f.Kind == FieldKind.Sequence);
            attention.Add(slot);
            attentionByBag[b] = slot;
            offset += slot.Columns;
        }
        var both = schema.Labels.Click is not null && schema.Labels.Conversion is not null;
        // Interactions over every embedding, at the most common width (the widest of equally common ones): a field of
        // another width is projected to it by its own learned matrix (DLRM's projection), so a user meets a category too.
        var interacting = new List<FieldSlot>();
        var interactionWidth = 0;
        if (m.Interactions is Interactions.Dot or Interactions.DotCross)
        {
            var embedded = ids.Concat(bags).ToList();
            if (embedded.Count >= 2)
            {
                interacting = [.. embedded.OrderBy(f => f.Offset)];
                interactionWidth = embedded.GroupBy(f => f.Width).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
            }
        }
        return new FeatureLayout(tables, ids, bags, numerics, rates, biases, deepDim, offset, m.Stacking, both, both && m.CvrLoss == CvrLoss.Esmm)
        {
            _batchSize = Math.Max(1, m.BatchSize),
            _cvrBatchSize = Math.Max(1, m.CvrBatchSize ?? ModelSpec.DefaultCvrBatchSize(m.BatchSize, both)),
            InteractionOffsets = interacting.Select(f => f.Offset).ToArray(),
            StackAcrossTasks = m.StackAcrossTasks && both,
            InteractionWidths = interacting.Select(f => f.Width).ToArray(),
            InteractionWidth = interactionWidth,
            AttentionFields = attention,
            _attentionByBag = attentionByBag,
        };
    }

    /// <summary>The table an embedding field's values embed in: a sequence's <c>from</c> field's, any other field's own; null when a sequence's <c>from</c> is not a field.</summary>
    public static string? TableOf(FeatureSchema schema, FieldSpec field) =>
        field.Kind == FieldKind.Sequence ? schema.Fields.FirstOrDefault(x => x.Name == field.From)?.TableName : field.TableName;

    /// <summary>
    /// The id field an attention-pooled bag is weighed against (<see cref="FieldSpec.Target"/>): as given, else a sequence's
    /// <c>from</c>, else the first id field in the bag's table; null when there is none.
    /// </summary>
    public static string? AttentionTarget(FeatureSchema schema, FieldSpec bag)
    {
        if (bag.Target is not null) return bag.Target;
        if (bag.Kind == FieldKind.Sequence) return bag.From;
        return schema.Fields.FirstOrDefault(x => x.Kind == FieldKind.Id && x.TableName == bag.TableName)?.Name;
    }
}
