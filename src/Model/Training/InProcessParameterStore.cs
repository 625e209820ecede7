using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;
using Freshet.Model.Statistics;
using Freshet.Model.Towers;

namespace Freshet.Model.Training;

/// <summary>
/// Every weight in this process: the reference store and the performance baseline. The step's
/// compute model is the authoritative dense tier itself, so dense pulls cost nothing.
/// </summary>
public sealed class InProcessParameterStore : IParameterStore
{
    public InProcessParameterStore(FeatureSchema schema)
    {
        Schema = schema;
        Layout = FeatureLayout.From(schema);
        Tables = [.. Layout.Tables.Select(t => new EmbeddingTable(t, schema.Model))];
        Rates = [.. Layout.RateFields.Select(r => new RateTable(r))];
        ComputeModel = new EsmmModel(Layout, schema.Model);
        Optimizers = new DenseOptimizers(ComputeModel, schema.Model);
    }

    public FeatureSchema Schema { get; }

    public FeatureLayout Layout { get; }

    public IReadOnlyList<EmbeddingTable> Tables { get; }

    public IReadOnlyList<RateTable> Rates { get; }

    public EsmmModel ComputeModel { get; }

    public DenseOptimizers Optimizers { get; }

    /// <summary>
    /// Makes the current weights the base (no row is new) and sets the tables up for
    /// <paramref name="plan"/>: with fresh rows (part+fresh) a frozen table trains only rows created from now on.
    /// </summary>
    public void StartFrom(TrainingPlan plan)
    {
        foreach (var t in Tables)
        {
            t.MarkBase();
            t.FreshOnly = plan.FreshOnly(t.Tier);
        }
    }

    public ValueTask PullRowsAsync(RowBatch batch, CancellationToken cancellationToken = default)
    {
        foreach (var t in batch.Tables)
        {
            Tables[t.Table].Pull(t.IdSpan, t.Occurrences.AsSpan(0, t.Count), t.RowSpan, t.Train, batch.Now);
        }
        foreach (var r in batch.Rates)
        {
            var table = Rates[r.Rate];
            table.Read(r.Ids.AsSpan(0, r.Count), r.Settled.AsSpan(0, 2 * r.Count), r.Pending);
            (r.TotalPositives, r.TotalSamples) = table.Totals;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask PushRowGradientsAsync(RowBatch batch, CancellationToken cancellationToken = default)
    {
        foreach (var t in batch.Tables)
        {
            if (t.Train) Tables[t.Table].ApplyGradients(t.IdSpan, t.GradientSpan);
        }
        foreach (var r in batch.Rates)
        {
            var table = Rates[r.Rate];
            if (r.Train)
            {
                foreach (var e in r.Events) table.Add(r.Ids[e.Slot], e.Positives, e.Samples, e.Time);
            }
            table.Settle(batch.Watermark);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask PullDenseAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask PushDenseAsync(TaskKind task, double labelRate, long step, CancellationToken cancellationToken = default)
    {
        if (Optimizers.Of(task).Steps == 0)
        {
            ComputeModel.TowerOf(task).InitializeOutputBias(labelRate);
        }
        Optimizers.Step(task);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> ExpireAsync(long now, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Tables.Sum(t => (long)t.Expire(now)) + Rates.Sum(r => (long)r.Expire(now)));

    public ValueTask<IReadOnlyDictionary<string, long>> CountRowsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyDictionary<string, long>>(
            Tables.Select(t => KeyValuePair.Create(t.Name, (long)t.Count)).Concat(Rates.Select(r => KeyValuePair.Create(r.Name, (long)r.Count))).ToDictionary());

    public void Dispose()
    {
        ComputeModel.Dispose();
    }
}
