namespace Freshet.Model.Schema;

/// <summary>
/// The model input derived from a schema: the embedding tables and, per field, its table and
/// offset. The input row of a sample is every field's slot in schema order.
/// </summary>
public sealed class FeatureLayout
{
    public const int DefaultDim = 16;
    public const int DefaultMaxLength = 50;

    private FeatureLayout(List<TableSpec> tables, List<FieldSlot> ids, List<FieldSlot> bags, List<FieldSlot> numerics, List<RateSlot> rates, int inputDim)
    {
        RateFields = rates;
        Tables = tables;
        IdFields = ids;
        BagFields = bags;
        NumericFields = numerics;
        InputDim = inputDim;
    }

    public IReadOnlyList<TableSpec> Tables { get; }

    public IReadOnlyList<FieldSlot> IdFields { get; }

    public IReadOnlyList<FieldSlot> BagFields { get; }

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
            var dim = f.Dim ?? DefaultDim;
            var t = tables.FindIndex(x => x.Name == f.TableName);
            if (t < 0)
            {
                var owner = schema.Fields.First(x => x.Kind is FieldKind.Id or FieldKind.Ids && x.TableName == f.TableName);
                tables.Add(new TableSpec(
                    f.TableName,
                    owner.Dim ?? DefaultDim,
                    owner.Tier ?? Tier.Changing,
                    owner.MinCount ?? 1,
                    owner.ExpireAfter is null ? null : Durations.Parse(owner.ExpireAfter, $"field '{owner.Name}' expireAfter"),
                    owner.MaxRows,
                    owner.Optimizer ?? m.SparseOptimizer,
                    owner.LearningRate ?? m.SparseLearningRate));
                t = tables.Count - 1;
            }
            var slot = new FieldSlot(f, t, offset, dim);
            (f.Kind == FieldKind.Id ? ids : bags).Add(slot);
            offset += dim;
        }
        return new FeatureLayout(tables, ids, bags, numerics, rates, offset);
    }
}
