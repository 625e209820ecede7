using System.Diagnostics;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Bench;

/// <summary>
/// samples/s of Freshet's training paths against a bare TorchSharp loop over the same model,
/// measured in one run (the machine is shared: compare ratios, not absolute numbers).
/// </summary>
public static class TrainBenchmark
{
    public sealed record Report(
        BareTorchLoop.Result Bare,
        BareTorchLoop.Result BareWithScoring,
        BareTorchLoop.Result StepOnly,
        BareTorchLoop.Result Trainer,
        BareTorchLoop.Result? ToolchainReference,
        IReadOnlyDictionary<string, long> Rows,
        double? TrainerCtrAuc,
        BareTorchLoop.Result Reader,
        BareTorchLoop.Result StepSameBatches,
        double? TrainerCtrBestBaselineAuc);

    public static async Task<Report> RunAsync(FeatureSchema schema, string data, long samples, bool toolchainReference, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var layout = FeatureLayout.From(schema);
        var batch = schema.Model.BatchSize;

        // 1. The whole in-process trainer: reading, featurizing, progressive scoring, training. Measured on its second
        //    run over the stream: the first, in a cold process, ran at 0.6-0.7 of the second (JIT tiering, the GC's
        //    budgets, TorchSharp's first calls), and a trainer runs for days. The steps below are timed warm as well.
        log?.Invoke("trainer: the full in-process streaming trainer (a first run over the same stream warms the process up)");
        using (var store = new InProcessParameterStore(schema))
        {
            await new StreamingTrainer(schema, store, new TrainerOptions())
                .ReplayAsync(SampleReader.Open(schema, data).Read(samples, cancellationToken), cancellationToken);
        }
        IReadOnlyDictionary<string, long> rows;
        BareTorchLoop.Result trainer;
        double? trainerAuc;
        double? trainerBaselineAuc;
        using (var store = new InProcessParameterStore(schema))
        {
            var reader = SampleReader.Open(schema, data);
            var t = new StreamingTrainer(schema, store, new TrainerOptions());
            var report = await t.ReplayAsync(reader.Read(samples, cancellationToken), cancellationToken);
            trainer = new BareTorchLoop.Result("trainer", report.Samples, report.Seconds);
            trainerAuc = report.Ctr.Auc;
            trainerBaselineAuc = report.Ctr.BestBaselineAuc;
            rows = await store.CountRowsAsync(cancellationToken);
        }

        // 2. The training step alone on samples already in memory (CTR batches), through the in-process store.
        log?.Invoke("step: gather / score / forward-backward / scatter on samples in memory");
        BareTorchLoop.Result step;
        BareTorchLoop.Result read; // reading and featurizing alone, on one thread: what feeds the trainer
        using (var store = new InProcessParameterStore(schema))
        {
            var reader = SampleReader.Open(schema, data);
            var reading = Stopwatch.StartNew();
            var all = reader.Read(samples, cancellationToken).ToList();
            read = new BareTorchLoop.Result("reader", all.Count, reading.Elapsed.TotalSeconds);
            var ctr = all.Where(s => s.Task == TaskKind.Ctr).ToList();
            var ts = new TrainingStep(store, Strategy.All);
            var scores = new float[batch];
            var clock = new Stopwatch();
            long done = 0;
            for (var i = 0; i + batch <= ctr.Count; i += batch)
            {
                var b = ctr.GetRange(i, batch);
                if (i == batch * 3) clock.Start(); // first batches warm up
                await ts.RunAsync(b, TaskKind.Ctr, true, scores, cancellationToken);
                if (clock.IsRunning) done += batch;
            }
            step = new BareTorchLoop.Result("step", done, clock.Elapsed.TotalSeconds);
        }

        // 2b. The step on the very batches the trainer runs (CTR and CVR batches at their sizes, in stream order), with
        //     nothing else: the trainer's time beyond this is reading, scoring bookkeeping, baselines and metrics.
        log?.Invoke("step on the trainer's batches: CTR and CVR batches at their sizes, samples in memory");
        BareTorchLoop.Result same;
        using (var store = new InProcessParameterStore(schema))
        {
            var all = SampleReader.Open(schema, data).Read(samples, cancellationToken).ToList();
            var ts = new TrainingStep(store, Strategy.All);
            var cvrBatch = schema.Model.CvrBatchSize ?? ModelSpec.DefaultCvrBatchSize(batch, layout.BothLabels);
            var scores = new float[Math.Max(batch, cvrBatch)];
            var ctcvr = layout.BothLabels ? new float[scores.Length] : null;
            var ctr = new List<Sample>(batch);
            var cvr = new List<Sample>(cvrBatch);
            var clock = new Stopwatch();
            long done = 0, taken = 0;
            long newestCtr = long.MinValue, newestCvr = long.MinValue;
            async Task Run(List<Sample> b, TaskKind task)
            {
                // The trainer's watermark: rate counts settle only once no later-scored sample can be older (as in StreamingTrainer).
                var newest = b.Max(x => x.Time);
                if (task == TaskKind.Ctr) newestCtr = Math.Max(newestCtr, newest);
                else newestCvr = Math.Max(newestCvr, newest);
                var other = task == TaskKind.Ctr ? cvr : ctr;
                var otherNewest = task == TaskKind.Ctr ? newestCvr : newestCtr;
                ts.Watermark = Math.Min(newest, other.Count > 0 ? other.Min(x => x.Time) : otherNewest == long.MinValue ? long.MaxValue : otherNewest);
                if (taken++ == 6) clock.Start(); // first batches warm up
                await ts.RunAsync(b, task, true, scores, cancellationToken, task == TaskKind.Ctr ? ctcvr : null);
                if (clock.IsRunning) done += b.Count;
                b.Clear();
            }
            foreach (var x in all)
            {
                var (mine, size) = x.Task == TaskKind.Ctr ? (ctr, batch) : (cvr, cvrBatch);
                mine.Add(x);
                if (mine.Count >= size) await Run(mine, x.Task);
            }
            if (ctr.Count > 0) await Run(ctr, TaskKind.Ctr);
            if (cvr.Count > 0) await Run(cvr, TaskKind.Cvr);
            same = new BareTorchLoop.Result("stepSameBatches", done, clock.Elapsed.TotalSeconds);
        }

        // 3. Bare TorchSharp loops over the same model: tables sized as the trainer left them.
        var tableRows = layout.Tables.Select(t => (int)Math.Max(1, rows[t.Name])).ToArray();
        var fields = layout.IdFields.Concat(layout.BagFields).OrderBy(s => s.Offset).Select(s => s.TableIndex).ToArray();
        var dim = layout.Tables.Select(t => t.Dim).Max();
        var steps = (int)Math.Max(20, samples / batch / 2);
        // Three interleaved rounds, median of each: the machine is shared and one round can be unlucky.
        var bares = new List<BareTorchLoop.Result>();
        var scored = new List<BareTorchLoop.Result>();
        for (var round = 0; round < 3; round++)
        {
            log?.Invoke($"bare (round {round + 1}/3): plain TorchSharp loop, same tables, tower and batch; then with an eval forward per step");
            bares.Add(BareTorchLoop.Run("bare", tableRows, fields, dim, schema.Model.Hidden, batch, steps, score: false, adagradDense: false));
            scored.Add(BareTorchLoop.Run("bareWithScoring", tableRows, fields, dim, schema.Model.Hidden, batch, steps, score: true, adagradDense: false));
        }
        var bare = bares.OrderBy(r => r.SamplesPerSecond).ElementAt(1);
        var bareScore = scored.OrderBy(r => r.SamplesPerSecond).ElementAt(1);

        // 4. The toolchain note's configuration, to relate this machine to its 63-67k samples/s.
        BareTorchLoop.Result? reference = null;
        if (toolchainReference)
        {
            log?.Invoke("reference: a 100k x 16 embedding read by 26 fields, 416-256-128-1 with BN, batch 1024, Adagrad");
            reference = BareTorchLoop.Run("toolchainReference", [100_000], new int[26], 16, [256, 128], 1024, 60, score: false, adagradDense: true);
        }
        return new Report(bare, bareScore, step, trainer, reference, rows, trainerAuc, read, same, trainerBaselineAuc);
    }
}
