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
        double? TrainerCtrAuc);

    public static async Task<Report> RunAsync(FeatureSchema schema, string data, long samples, bool toolchainReference, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var layout = FeatureLayout.From(schema);
        var batch = schema.Model.BatchSize;

        // 1. The whole in-process trainer: reading, featurizing, progressive scoring, training.
        log?.Invoke("trainer: the full in-process streaming trainer");
        IReadOnlyDictionary<string, long> rows;
        BareTorchLoop.Result trainer;
        double? trainerAuc;
        using (var store = new InProcessParameterStore(schema))
        {
            var reader = SampleReader.Open(schema, data);
            var t = new StreamingTrainer(schema, store, new TrainerOptions());
            var report = await t.ReplayAsync(reader.Read(samples, cancellationToken), cancellationToken);
            trainer = new BareTorchLoop.Result("trainer", report.Samples, report.Seconds);
            trainerAuc = report.Ctr.Auc;
            rows = await store.CountRowsAsync(cancellationToken);
        }

        // 2. The training step alone on samples already in memory (CTR batches), through the in-process store.
        log?.Invoke("step: gather / score / forward-backward / scatter on samples in memory");
        BareTorchLoop.Result step;
        using (var store = new InProcessParameterStore(schema))
        {
            var reader = SampleReader.Open(schema, data);
            var ctr = reader.Read(samples, cancellationToken).Where(s => s.Task == TaskKind.Ctr).ToList();
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
        return new Report(bare, bareScore, step, trainer, reference, rows, trainerAuc);
    }
}
