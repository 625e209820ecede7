using System.Diagnostics;
using Freshet.Model.Telemetry;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Training;
using Freshet.Parameters;

namespace Freshet.Grains.Training;

/// <summary>
/// The parameter store of a trainer in the cluster: rows live in shard grains (one pull and one
/// push call per shard per step, every table in the same call, ids and numbers as bytes), the
/// dense tier in the model's dense grain (one push per step, which returns the tower as updated,
/// so a lone trainer never has to pull it again).
/// </summary>
public sealed class ClusterParameterStore : IParameterStore
{
    private readonly string _job;
    private readonly FreshetInstruments? _instruments;
    private readonly TagList _tags;
    private readonly string _trainer;
    private readonly bool _soleTrainer;
    private readonly IEmbeddingShardGrain[] _shards;
    private readonly IDenseGrain _dense;
    private long _ctrVersion = -1;
    private long _cvrVersion = -1;

    /// <summary>Each tower's batch-norm buffers as the dense grain last gave them: what the next forward pass starts from.</summary>
    private readonly byte[][] _buffersBase = [[], []];
    private long _calls;

    /// <summary>Each shard's part of every rate's totals, as its last answer to this trainer gave them.</summary>
    private readonly double[][] _rateTotals;
    private long _steps;

    public ClusterParameterStore(IGrainFactory grains, FeatureSchema schema, string model, string job, string trainer, int shards, bool soleTrainer, FreshetInstruments? instruments = null)
    {
        _instruments = instruments;
        _tags = FreshetTags.Of(model, job);
        _job = job;
        _trainer = trainer;
        _soleTrainer = soleTrainer;
        Layout = FeatureLayout.From(schema);
        ComputeModel = new EsmmModel(Layout, schema.Model);
        _shards = [.. grains.Shards(model, shards)];
        _rateTotals = [.. Enumerable.Range(0, shards).Select(_ => new double[2 * Layout.RateFields.Count])];
        _dense = grains.Dense(model);
    }

    public FeatureLayout Layout { get; }

    public EsmmModel ComputeModel { get; }

    /// <summary>Grain calls made per training step, on average.</summary>
    public double CallsPerStep => _steps == 0 ? 0 : (double)Interlocked.Read(ref _calls) / _steps;

    public ValueTask PullRowsAsync(RowBatch batch, CancellationToken cancellationToken = default) =>
        TimedAsync(_instruments?.PullDuration, () => PullRowsCoreAsync(batch, cancellationToken));

    /// <summary>Runs <paramref name="work"/> and records its duration, failed or not, with this store's tags.</summary>
    private async ValueTask TimedAsync(System.Diagnostics.Metrics.Histogram<double>? histogram, Func<ValueTask> work)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await work();
        }
        finally
        {
            histogram?.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tags);
        }
    }

    private async ValueTask PullRowsCoreAsync(RowBatch batch, CancellationToken cancellationToken)
    {
        var shards = _shards.Length;
        var tablePositions = Split(batch.Tables.Select(t => (t.Ids, t.Count)).ToList(), shards);
        var ratePositions = Split(batch.Rates.Select(r => (r.Ids, r.Count)).ToList(), shards);
        var calls = new List<(int Shard, Task<RowPullResult> Call)>();
        for (var s = 0; s < shards; s++)
        {
            var tables = new List<TableIds>();
            for (var t = 0; t < batch.Tables.Count; t++)
            {
                var pos = tablePositions[t][s];
                if (pos.Count == 0) continue;
                var tb = batch.Tables[t];
                tables.Add(new TableIds
                {
                    Index = tb.Table,
                    Train = tb.Train,
                    Ids = Bytes.Of<ulong>([.. pos.Select(i => tb.Ids[i])]),
                    Occurrences = Bytes.Of<int>([.. pos.Select(i => tb.Occurrences[i])]),
                });
            }
            var rates = new List<TableIds>();
            for (var r = 0; r < batch.Rates.Count; r++)
            {
                var pos = ratePositions[r][s];
                if (pos.Count == 0) continue;
                rates.Add(new TableIds { Index = batch.Rates[r].Rate, Ids = Bytes.Of<ulong>([.. pos.Select(i => batch.Rates[r].Ids[i])]) });
            }
            if (tables.Count == 0 && rates.Count == 0) continue;
            var shard = _shards[s];
            var request = new RowPull { Job = _job, Now = batch.Now, Tables = tables, Rates = rates };
            calls.Add((s, Retry.CallAsync(() => shard.PullAsync(request), cancellationToken)));
        }
        Interlocked.Add(ref _calls, calls.Count);
        await Task.WhenAll(calls.Select(c => c.Call));
        foreach (var (s, call) in calls) KeepTotals(s, call.Result.RateTotals);
        foreach (var (s, call) in calls)
        {
            var result = call.Result;
            var k = 0;
            for (var t = 0; t < batch.Tables.Count; t++)
            {
                var pos = tablePositions[t][s];
                if (pos.Count == 0) continue;
                var tb = batch.Tables[t];
                var rows = Bytes.As<float>(result.Rows[k++]);
                for (var i = 0; i < pos.Count; i++) rows.Slice(i * tb.Dim, tb.Dim).CopyTo(tb.Rows.AsSpan(pos[i] * tb.Dim, tb.Dim));
            }
            k = 0;
            for (var r = 0; r < batch.Rates.Count; r++)
            {
                var pos = ratePositions[r][s];
                if (pos.Count == 0) continue;
                var rb = batch.Rates[r];
                var counts = Bytes.As<double>(result.RateCounts[k]);
                for (var i = 0; i < pos.Count; i++)
                {
                    rb.Settled[2 * pos[i]] = counts[2 * i];
                    rb.Settled[2 * pos[i] + 1] = counts[2 * i + 1];
                }
                if (k < result.RatePending.Count)
                {
                    RateEventCodec.Read(result.RatePending[k], (at, time, positives, samples) => rb.Pending.Add((pos[at], time, positives, samples)));
                }
                k++;
            }
        }
        foreach (var rb in batch.Rates) (rb.TotalPositives, rb.TotalSamples) = Totals(rb.Rate);
    }

    private void KeepTotals(int shard, byte[] totals)
    {
        if (totals.Length == _rateTotals[shard].Length * sizeof(double)) Bytes.As<double>(totals).CopyTo(_rateTotals[shard]);
    }

    /// <summary>A rate's totals over every shard: the global rate its prior smooths toward.</summary>
    private (double Positives, double Samples) Totals(int rate)
    {
        double positives = 0, samples = 0;
        foreach (var t in _rateTotals)
        {
            positives += t[2 * rate];
            samples += t[2 * rate + 1];
        }
        return (positives, samples);
    }

    public ValueTask PushRowGradientsAsync(RowBatch batch, CancellationToken cancellationToken = default) =>
        TimedAsync(_instruments?.PushDuration, () => PushRowGradientsCoreAsync(batch, cancellationToken));

    private async ValueTask PushRowGradientsCoreAsync(RowBatch batch, CancellationToken cancellationToken)
    {
        var shards = _shards.Length;
        var training = batch.Tables.Where(t => t.Train).ToList();
        var counting = batch.Rates.Where(r => r.Train).ToList();
        var tablePositions = Split(training.Select(t => (t.Ids, t.Count)).ToList(), shards);
        // A rate's events go to the shard of their key.
        var eventKeys = counting.Select(r => (r.Events.Select(e => r.Ids[e.Slot]).ToArray(), r.Events.Count)).ToList();
        var ratePositions = Split(eventKeys, shards);
        var calls = new List<(int Shard, Task<RowPushResult> Call)>();
        for (var s = 0; s < shards; s++)
        {
            var tables = new List<TableGradients>();
            for (var t = 0; t < training.Count; t++)
            {
                var pos = tablePositions[t][s];
                if (pos.Count == 0) continue;
                var tb = training[t];
                var grads = new float[pos.Count * tb.Dim];
                for (var i = 0; i < pos.Count; i++) tb.Gradients.AsSpan(pos[i] * tb.Dim, tb.Dim).CopyTo(grads.AsSpan(i * tb.Dim, tb.Dim));
                tables.Add(new TableGradients { Index = tb.Table, Ids = Bytes.Of<ulong>([.. pos.Select(i => tb.Ids[i])]), Gradients = Bytes.Of<float>(grads) });
            }
            var rates = new List<RateCounts>();
            for (var r = 0; r < counting.Count; r++)
            {
                var pos = ratePositions[r][s];
                if (pos.Count == 0) continue;
                var rb = counting[r];
                rates.Add(new RateCounts
                {
                    Index = rb.Rate,
                    Ids = Bytes.Of<ulong>([.. pos.Select(i => rb.Ids[rb.Events[i].Slot])]),
                    Times = Bytes.Of<long>([.. pos.Select(i => rb.Events[i].Time)]),
                    Positives = Bytes.Of<double>([.. pos.Select(i => rb.Events[i].Positives)]),
                    Samples = Bytes.Of<double>([.. pos.Select(i => rb.Events[i].Samples)]),
                });
            }
            if (tables.Count == 0 && rates.Count == 0) continue;
            var shard = _shards[s];
            var request = new RowPush { Job = _job, Trainer = _trainer, Step = batch.Step, Now = batch.Now, Tables = tables, Rates = rates, Watermark = batch.Watermark };
            calls.Add((s, Retry.CallAsync(() => shard.PushAsync(request), cancellationToken)));
        }
        Interlocked.Add(ref _calls, calls.Count);
        await Task.WhenAll(calls.Select(c => c.Call));
        foreach (var (s, call) in calls) KeepTotals(s, call.Result.RateTotals);
    }

    public async ValueTask PullDenseAsync(CancellationToken cancellationToken = default)
    {
        // A lone trainer's towers change only through its own pushes, which return the new weights.
        if (_soleTrainer && _ctrVersion >= 0 && _cvrVersion >= 0) return;
        Interlocked.Increment(ref _calls);
        foreach (var state in await Retry.CallAsync(() => _dense.PullAsync(_ctrVersion, _cvrVersion), cancellationToken)) Apply(state);
    }

    public async ValueTask PushDenseAsync(TaskKind task, double labelRate, long step, CancellationToken cancellationToken = default)
    {
        var tower = ComputeModel.TowerOf(task);
        var push = new DensePush
        {
            Trainer = _trainer,
            Step = step,
            Task = task,
            Gradients = TowerCodec.ReadGradientBytes(tower),
            Buffers = TowerCodec.ReadBuffers(tower),
            BuffersBase = _buffersBase[(int)task],
            LabelRate = labelRate,
        };
        tower.zero_grad();
        Interlocked.Increment(ref _calls);
        Interlocked.Increment(ref _steps);
        Apply(await Retry.CallAsync(() => _dense.PushAsync(push), cancellationToken));
    }

    public ValueTask<long> ExpireAsync(long now, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(0L); // shards expire their own rows as event time passes (ShardRows.ExpireIfDue)

    public async ValueTask<IReadOnlyDictionary<string, long>> CountRowsAsync(CancellationToken cancellationToken = default)
    {
        var statuses = await Task.WhenAll(_shards.Select(s => s.GetStatusAsync()));
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var st in statuses)
        {
            foreach (var (table, n) in st.Rows) rows[table] = rows.GetValueOrDefault(table) + n;
        }
        return rows;
    }

    public void Dispose() => ComputeModel.Dispose();

    private void Apply(DenseTowerState state)
    {
        var task = state.Task;
        var tower = ComputeModel.TowerOf(task);
        TowerCodec.WriteParameters(tower, Bytes.As<float>(state.Parameters));
        TowerCodec.WriteBuffers(tower, state.Buffers);
        _buffersBase[(int)task] = state.Buffers;
        if (task == TaskKind.Ctr) _ctrVersion = state.Version;
        else _cvrVersion = state.Version;
    }

    /// <summary>For each id list, the positions of its ids per shard.</summary>
    private static List<int>[][] Split(List<(ulong[] Ids, int Count)> lists, int shards)
    {
        var result = new List<int>[lists.Count][];
        for (var l = 0; l < lists.Count; l++)
        {
            var per = new List<int>[shards];
            for (var s = 0; s < shards; s++) per[s] = [];
            var (ids, count) = lists[l];
            for (var i = 0; i < count; i++) per[ShardRouter.ShardOf(ids[i], shards)].Add(i);
            result[l] = per;
        }
        return result;
    }
}
