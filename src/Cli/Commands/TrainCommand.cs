using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Cli.Output;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using TorchSharp;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet train</c>: the in-process streaming trainer on a log or the synthetic stream.</summary>
public static class TrainCommand
{
    public static async Task<int> RunAsync(TrainArgs args, CliContext cli, CancellationToken cancellationToken)
    {
        var schema = SchemaLoader.Load(args.Schema);
        var reader = SampleReader.Open(schema, args.Data, args.BadRows);
        var limit = args.Samples ?? (args.Data == SampleReader.SyntheticData ? TrainArgs.DefaultSyntheticSamples : null);
        torch.set_num_threads(args.Threads ?? Environment.ProcessorCount);

        using var store = new InProcessParameterStore(schema);
        CheckpointManifest? restored = null;
        if (args.Restore is not null)
        {
            restored = await ModelCheckpoint.LoadAsync(new LocalCheckpointStore(args.Restore), store, args.RestoreVersion, cancellationToken);
            if (!args.Json) await cli.Out.WriteLineAsync($"restored {schema.Name} version {restored.Version} ({restored.Samples:N0} samples) from {args.Restore}");
        }
        var trainer = new StreamingTrainer(schema, store, new TrainerOptions { Strategy = args.Strategy, BatchSize = args.BatchSize, Window = args.Window });
        var progress = new ProgressBar(cli.Error, cli.Interactive, limit);
        trainer.StepCompleted += step =>
        {
            var auc = trainer.CtrEvaluation.Count > 0 ? trainer.CtrEvaluation.RecentAuc(20_000) : trainer.CvrEvaluation.RecentAuc(20_000);
            progress.Report(step.TotalSamples, $"{step.TotalSamples:N0} samples  event time {TimeParser.ToIso(step.EventTime)}  recent AUC {(double.IsNaN(auc) ? "-" : auc.ToString("F4"))}");
        };
        var clock = Stopwatch.StartNew();
        var report = await trainer.ReplayAsync(reader.Read(limit, cancellationToken), cancellationToken);
        progress.Done();
        var rows = await store.CountRowsAsync(cancellationToken);

        CheckpointManifest? saved = null;
        if (args.Checkpoint is not null)
        {
            saved = await ModelCheckpoint.SaveAsync(new LocalCheckpointStore(args.Checkpoint), store, report.LastEventTime,
                (restored?.Samples ?? 0) + report.Samples, args.Strategy.Name(), cancellationToken);
        }

        var result = new JsonObject
        {
            ["command"] = "train",
            ["schema"] = schema.Name,
            ["data"] = args.Data,
            ["strategy"] = args.Strategy.Name(),
            ["samples"] = report.Samples,
            ["ctrSamples"] = report.Ctr.Samples,
            ["cvrSamples"] = report.Cvr.Samples,
            ["ctrAuc"] = JsonResult.Metric(report.Ctr.Auc),
            ["ctrLogLoss"] = JsonResult.Metric(report.Ctr.LogLoss),
            ["ctrBaselineAuc"] = JsonResult.Metric(report.Ctr.BaselineAuc),
            ["ctrBaselineLogLoss"] = JsonResult.Metric(report.Ctr.BaselineLogLoss),
            ["ctrOracleAuc"] = JsonResult.Metric(report.Ctr.OracleAuc),
            ["cvrAuc"] = JsonResult.Metric(report.Cvr.Auc),
            ["cvrLogLoss"] = JsonResult.Metric(report.Cvr.LogLoss),
            ["cvrBaselineAuc"] = JsonResult.Metric(report.Cvr.BaselineAuc),
            ["cvrBaselineLogLoss"] = JsonResult.Metric(report.Cvr.BaselineLogLoss),
            ["cvrOracleAuc"] = JsonResult.Metric(report.Cvr.OracleAuc),
            ["groupAuc"] = JsonResult.Metric(report.Ctr.GroupAuc ?? report.Cvr.GroupAuc),
            ["groups"] = report.Ctr.Groups + report.Cvr.Groups,
            ["ctrPositives"] = report.Ctr.Positives,
            ["cvrPositives"] = report.Cvr.Positives,
            ["steps"] = report.Steps,
            ["batchSize"] = trainer.BatchSize,
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            ["samplesPerSecond"] = Math.Round(report.SamplesPerSecond, 1),
            ["peakRssMb"] = Math.Round(ProcessMemory.PeakResidentMegabytes(), 1),
            ["badRows"] = reader.BadRows.Count,
            ["badRowReasons"] = new JsonObject(reader.BadRows.ByReason.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["badRowExamples"] = new JsonArray([.. reader.BadRows.Examples.Select(e => (JsonNode?)e.ToString())]),
            ["rows"] = new JsonObject(rows.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["bytesPerRow"] = new JsonObject(store.Tables.Select(t => KeyValuePair.Create(t.Name, (JsonNode?)t.BytesPerRow))),
            ["expiredRows"] = report.ExpiredRows,
            ["firstEventTime"] = report.FirstEventTime?.ToString("O"),
            ["lastEventTime"] = report.LastEventTime?.ToString("O"),
            ["windowHours"] = args.Window.TotalHours,
            ["windows"] = Windows(report),
            ["restoredVersion"] = restored?.Version,
            ["checkpoint"] = saved is null ? null : new JsonObject { ["store"] = Path.GetFullPath(args.Checkpoint!), ["model"] = saved.Model, ["version"] = saved.Version },
        };

        await WriteSummaryAsync(cli.Out, schema, reader, report, rows, store, saved);
        if (args.Json)
        {
            JsonResult.Write(cli.Out, result);
        }
        return 0;
    }

    private static JsonArray Windows(TrainingReport report)
    {
        var windows = new JsonArray();
        var starts = report.Ctr.Windows.Select(w => w.Start).Concat(report.Cvr.Windows.Select(w => w.Start)).Distinct().Order();
        foreach (var start in starts)
        {
            var c = report.Ctr.Windows.FirstOrDefault(w => w.Start == start);
            var v = report.Cvr.Windows.FirstOrDefault(w => w.Start == start);
            windows.Add(new JsonObject
            {
                ["start"] = start.ToString("O"),
                ["ctrSamples"] = c?.Samples ?? 0,
                ["ctrAuc"] = JsonResult.Metric(c?.Auc),
                ["ctrBaselineAuc"] = JsonResult.Metric(c?.BaselineAuc),
                ["ctrOracleAuc"] = JsonResult.Metric(c?.OracleAuc),
                ["ctrLogLoss"] = JsonResult.Metric(c?.LogLoss),
                ["cvrSamples"] = v?.Samples ?? 0,
                ["cvrAuc"] = JsonResult.Metric(v?.Auc),
                ["cvrBaselineAuc"] = JsonResult.Metric(v?.BaselineAuc),
            });
        }
        return windows;
    }

    private static async Task WriteSummaryAsync(TextWriter o, FeatureSchema schema, SampleReader reader, TrainingReport r, IReadOnlyDictionary<string, long> rows, InProcessParameterStore store, CheckpointManifest? saved)
    {
        static string F(double? x) => x is { } v ? v.ToString("F4") : "-";
        await o.WriteLineAsync($"{schema.Name}: {r.Samples:N0} samples ({r.Ctr.Samples:N0} CTR, {r.Cvr.Samples:N0} CVR) in {r.Seconds:F1} s, {r.SamplesPerSecond:N0} samples/s, {r.Steps:N0} steps");
        await o.WriteLineAsync($"  event time {r.FirstEventTime:yyyy-MM-dd HH:mm} .. {r.LastEventTime:yyyy-MM-dd HH:mm} UTC");
        await o.WriteLineAsync("  task  samples     positives  AUC     baseline  oracle  log-loss  group AUC");
        foreach (var t in new[] { r.Ctr, r.Cvr })
        {
            if (t.Samples == 0) continue;
            await o.WriteLineAsync($"  {t.Task.ToString().ToUpperInvariant(),-4}  {t.Samples,10:N0}  {t.Positives,9:N0}  {F(t.Auc),-6}  {F(t.BaselineAuc),-8}  {F(t.OracleAuc),-6}  {F(t.LogLoss),-8}  {F(t.GroupAuc)}");
        }
        await o.WriteLineAsync("  rows: " + string.Join(", ", store.Tables.Select(t => $"{t.Name} {rows[t.Name]:N0} ({t.Tier.ToString().ToLowerInvariant()}, {t.BytesPerRow} B/row)")));
        if (reader.BadRows.Count > 0)
        {
            await o.WriteLineAsync($"  skipped {reader.BadRows.Count:N0} bad rows: " + string.Join(", ", reader.BadRows.ByReason.Select(kv => $"{kv.Key} {kv.Value:N0}")));
            foreach (var e in reader.BadRows.Examples) await o.WriteLineAsync($"    {e}");
        }
        if (saved is not null) await o.WriteLineAsync($"  checkpoint: {saved.Model} version {saved.Version}");
    }
}
