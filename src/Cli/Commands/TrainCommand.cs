using Freshet.Experiments;
using Freshet.Silo;
using Freshet.Jobs;
using System.Text.Json.Nodes;
using Freshet.Tools.Cluster;
using Freshet.Tools.Output;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;
using Freshet.Model.Statistics;
using Freshet.Model.Synthetic;
using Freshet.Model.Training;
using TorchSharp;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet train</c>: the streaming trainer on a log or the synthetic stream, in this process or on a cluster.</summary>
public static class TrainCommand
{
    /// <summary>What a run produced, whichever way it ran.</summary>
    private sealed record Outcome(
        TrainingReport Report,
        IReadOnlyDictionary<string, long> Rows,
        long? RestoredVersion,
        JsonObject? Checkpoint,
        JsonObject? Cluster);

    public static async Task<int> RunAsync(TrainArgs args, CliContext cli, CancellationToken cancellationToken)
    {
        var schema = SchemaLoader.Load(args.Schema);
        var reader = SampleReader.Open(schema, args.Data, args.BadRows);
        var limit = args.Samples ?? (args.Data == SampleReader.SyntheticData ? TrainArgs.DefaultSyntheticSamples : null);
        torch.set_num_threads(args.Threads ?? Environment.ProcessorCount);
        var progress = new ProgressBar(cli.Error, cli.Interactive, limit);
        var outcome = args.Cluster switch
        {
            null => await InProcessAsync(args, schema, reader, limit, progress, cli, cancellationToken),
            "local" => await LocalClusterAsync(args, schema, reader, limit, progress, cancellationToken),
            var other => throw new ArgumentException($"--cluster: '{other}' is not a cluster this command can start; use 'local' (a silo in this process)"),
        };
        progress.Done();
        // On the synthetic stream, the informed learner on the same samples says how much of the oracle is learnable.
        var ceiling = args.Data == SampleReader.SyntheticData && limit is { } n && args.Restore is null
            ? SyntheticCeiling.Run(schema.Source.Synthetic ?? new SyntheticOptions(), n, cancellationToken)
            : null;

        var report = outcome.Report;
        var layout = FeatureLayout.From(schema);
        var result = new JsonObject
        {
            ["command"] = "train",
            ["schema"] = schema.Name,
            ["data"] = args.Data,
            ["strategy"] = args.Plan.Name,
            ["samples"] = report.Samples,
            ["ctrSamples"] = report.Ctr.Samples,
            ["cvrSamples"] = report.Cvr.Samples,
            ["ctrAuc"] = JsonResult.Metric(report.Ctr.Auc),
            ["ctrLogLoss"] = JsonResult.Metric(report.Ctr.LogLoss),
            ["ctrBaselineAuc"] = JsonResult.Metric(report.Ctr.BaselineAuc),
            ["ctrBaselineLogLoss"] = JsonResult.Metric(report.Ctr.BaselineLogLoss),
            ["ctrOracleAuc"] = JsonResult.Metric(report.Ctr.OracleAuc),
            ["ctrBaselines"] = Baselines(report.Ctr),
            ["ctrBestBaselineAuc"] = JsonResult.Metric(report.Ctr.BestBaselineAuc),
            ["ctrCeilingAuc"] = JsonResult.Metric(ceiling?.CtrAuc),
            ["cvrAuc"] = JsonResult.Metric(report.Cvr.Auc),
            ["cvrLogLoss"] = JsonResult.Metric(report.Cvr.LogLoss),
            ["cvrBaselineAuc"] = JsonResult.Metric(report.Cvr.BaselineAuc),
            ["cvrBaselineLogLoss"] = JsonResult.Metric(report.Cvr.BaselineLogLoss),
            ["cvrOracleAuc"] = JsonResult.Metric(report.Cvr.OracleAuc),
            ["cvrBaselines"] = Baselines(report.Cvr),
            ["cvrBestBaselineAuc"] = JsonResult.Metric(report.Cvr.BestBaselineAuc),
            ["cvrCeilingAuc"] = JsonResult.Metric(ceiling?.CvrAuc),
            ["ctcvrAuc"] = JsonResult.Metric(report.Ctcvr?.Auc),
            ["groupAuc"] = JsonResult.Metric(report.Ctr.GroupAuc ?? report.Cvr.GroupAuc),
            ["groups"] = report.Ctr.Groups + report.Cvr.Groups,
            ["ctrPositives"] = report.Ctr.Positives,
            ["cvrPositives"] = report.Cvr.Positives,
            ["steps"] = report.Steps,
            ["batchSize"] = args.BatchSize ?? schema.Model.BatchSize,
            ["seconds"] = Math.Round(report.Seconds, 3),
            ["samplesPerSecond"] = Math.Round(report.SamplesPerSecond, 1),
            ["peakRssMb"] = Math.Round(ProcessMemory.PeakResidentMegabytes(), 1),
            ["badRows"] = reader.BadRows.Count,
            ["badRowReasons"] = new JsonObject(reader.BadRows.ByReason.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["badRowExamples"] = new JsonArray([.. reader.BadRows.Examples.Select(e => (JsonNode?)e.ToString())]),
            ["rows"] = new JsonObject(outcome.Rows.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["bytesPerRow"] = new JsonObject(layout.Tables.Select(t => KeyValuePair.Create(t.Name, (JsonNode?)EmbeddingTable.BytesPerRowOf(t, schema.Model)))
                .Concat(layout.RateFields.Select(r => KeyValuePair.Create(r.Field.Name, (JsonNode?)RateTable.BytesPerRow)))),
            ["expiredRows"] = report.ExpiredRows,
            ["firstEventTime"] = report.FirstEventTime?.ToString("O"),
            ["lastEventTime"] = report.LastEventTime?.ToString("O"),
            ["windowHours"] = args.Window.TotalHours,
            ["windows"] = Windows(report),
            ["restoredVersion"] = outcome.RestoredVersion,
            ["checkpoint"] = outcome.Checkpoint,
        };
        if (outcome.Cluster is not null) result["cluster"] = outcome.Cluster;

        await WriteSummaryAsync(cli.Out, schema, reader, report, outcome, ceiling);
        if (args.Json)
        {
            JsonResult.Write(cli.Out, result);
        }
        return 0;
    }

    private static async Task<Outcome> InProcessAsync(TrainArgs args, FeatureSchema schema, SampleReader reader, long? limit, ProgressBar progress, CliContext cli, CancellationToken cancellationToken)
    {
        using var store = new InProcessParameterStore(schema);
        CheckpointManifest? restored = null;
        if (args.Restore is not null)
        {
            restored = await ModelCheckpoint.LoadAsync(new LocalCheckpointStore(args.Restore), store, args.RestoreVersion, cancellationToken);
            if (!args.Json) await cli.Out.WriteLineAsync($"restored {schema.Name} version {restored.Version} ({restored.Samples:N0} samples) from {args.Restore}");
        }
        store.StartFrom(args.Plan);
        var trainer = new StreamingTrainer(schema, store, new TrainerOptions { Plan = args.Plan, BatchSize = args.BatchSize, Window = args.Window, Evaluation = args.Evaluation });
        trainer.StepCompleted += step => progress.Report(step.TotalSamples, () =>
        {
            var auc = trainer.CtrEvaluation.Count > 0 ? trainer.CtrEvaluation.RecentAuc(20_000) : trainer.CvrEvaluation.RecentAuc(20_000);
            return $"{step.TotalSamples:N0} samples  event time {TimeParser.ToIso(step.EventTime)}  recent AUC {(double.IsNaN(auc) ? "-" : auc.ToString("F4"))}";
        });
        var report = await trainer.ReplayAsync(reader.Read(limit, cancellationToken), cancellationToken);
        var rows = await store.CountRowsAsync(cancellationToken);
        JsonObject? checkpoint = null;
        if (args.Checkpoint is not null)
        {
            var saved = await ModelCheckpoint.SaveAsync(new LocalCheckpointStore(args.Checkpoint), store, report.LastEventTime,
                (restored?.Samples ?? 0) + report.Samples, args.Plan.Name, cancellationToken);
            checkpoint = new JsonObject { ["store"] = Path.GetFullPath(args.Checkpoint), ["model"] = saved.Model, ["version"] = saved.Version };
        }
        return new Outcome(report, rows, restored?.Version, checkpoint, null);
    }

    private static async Task<Outcome> LocalClusterAsync(TrainArgs args, FeatureSchema schema, SampleReader reader, long? limit, ProgressBar progress, CancellationToken cancellationToken)
    {
        if (args.BatchSize is not null) throw new ArgumentException("--batch-size: a cluster job takes its batch size from the schema (model.batchSize)");
        if (JobSpecRules.Strategy(args.Plan, out var strategy) is { } problem) throw new ArgumentException("--" + problem);
        var temporary = args.Checkpoint is null && args.Restore is null;
        var folder = args.Checkpoint ?? args.Restore ?? Path.Combine(Path.GetTempPath(), "freshet-train-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var cluster = await LocalCluster.StartAsync(folder, cancellationToken);
            var result = await ClusterTraining.RunAsync(cluster.Client, schema, reader.Read(limit, cancellationToken), new ClusterTraining.Options
            {
                Shards = args.Shards,
                Trainers = args.Trainers,
                Strategy = strategy,
                Window = args.Window,
                RestoreLatest = args.Restore is not null && args.RestoreVersion is null,
                RestoreVersion = args.Restore is null ? null : args.RestoreVersion,
                CheckpointAfter = (limit ?? 100_000) / 2,
                CheckpointAtEnd = args.Checkpoint is not null,
            }, n => progress.Report(n, $"{n:N0} samples published"), cancellationToken);
            var clusterInfo = new JsonObject
            {
                ["profile"] = "local",
                ["shards"] = args.Shards,
                ["trainers"] = args.Trainers,
                ["grainCallsPerStep"] = Math.Round(result.GrainCallsPerStep, 2),
                ["barrierPauseMs"] = result.BarrierPauseMs is { } ms ? Math.Round(ms, 1) : null,
                ["job"] = result.Job,
            };
            var checkpoint = result.FinalCheckpoint is { } c && !temporary
                ? new JsonObject { ["store"] = Path.GetFullPath(folder), ["model"] = c.Model, ["version"] = c.Version }
                : null;
            return new Outcome(result.Report, result.Rows, null, checkpoint, clusterInfo);
        }
        finally
        {
            if (temporary && Directory.Exists(folder))
            {
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
            }
        }
    }

    /// <summary>Every counting baseline's AUC by name (each id field's running rate, and <c>mean</c>).</summary>
    internal static JsonObject Baselines(Freshet.Model.Metrics.TaskReport task) =>
        new(task.Baselines?.Select(kv => KeyValuePair.Create(kv.Key, JsonResult.Metric(kv.Value))) ?? []);

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

    private static async Task WriteSummaryAsync(TextWriter o, FeatureSchema schema, SampleReader reader, TrainingReport r, Outcome outcome, SyntheticCeilingResult? ceiling)
    {
        static string F(double? x) => x is { } v ? v.ToString("F4") : "-";
        var where = outcome.Cluster is { } c ? $" on a local cluster ({c["shards"]} shards, {c["trainers"]} trainer(s))" : "";
        await o.WriteLineAsync($"{schema.Name}: {r.Samples:N0} samples ({r.Ctr.Samples:N0} CTR, {r.Cvr.Samples:N0} CVR){where} in {r.Seconds:F1} s, {r.SamplesPerSecond:N0} samples/s, {r.Steps:N0} steps");
        await o.WriteLineAsync($"  event time {r.FirstEventTime:yyyy-MM-dd HH:mm} .. {r.LastEventTime:yyyy-MM-dd HH:mm} UTC");
        await o.WriteLineAsync("  task  samples     positives  AUC     best counter        oracle  log-loss  group AUC");
        foreach (var t in new[] { r.Ctr, r.Cvr })
        {
            if (t.Samples == 0) continue;
            var best = t.Baselines?.Where(kv => kv.Value is not null).OrderByDescending(kv => kv.Value).Select(kv => kv.Key).FirstOrDefault();
            var counter = $"{F(t.BestBaselineAuc)} ({best ?? "named"})";
            await o.WriteLineAsync($"  {t.Task.ToString().ToUpperInvariant(),-4}  {t.Samples,10:N0}  {t.Positives,9:N0}  {F(t.Auc),-6}  {counter,-18}  {F(t.OracleAuc),-6}  {F(t.LogLoss),-8}  {F(t.GroupAuc)}");
            if (t.Baselines is { Count: > 0 } all)
            {
                await o.WriteLineAsync($"        counters (running rate per field): " + string.Join(", ", all.Select(kv => $"{kv.Key} {F(kv.Value)}")));
            }
        }
        if (r.Ctcvr is { Samples: > 0 } ctcvr) await o.WriteLineAsync($"  CTCVR on impressions (pCTR x pCVR against clicked and converted): AUC {F(ctcvr.Auc)}, {ctcvr.Positives:N0} conversions");
        if (ceiling is not null)
        {
            static string Share(double auc, double oracle) => SyntheticCeilingResult.Fraction(auc, oracle).ToString("F3");
            await o.WriteLineAsync($"  share of the oracle's lift over chance: model CTR {Share(r.Ctr.Auc ?? double.NaN, r.Ctr.OracleAuc ?? double.NaN)}, CVR {Share(r.Cvr.Auc ?? double.NaN, r.Cvr.OracleAuc ?? double.NaN)}; "
                + $"informed learner (told every shared effect, learning each user's and item's own) CTR {Share(ceiling.CtrAuc, ceiling.CtrOracleAuc)} (AUC {F(ceiling.CtrAuc)}), CVR {Share(ceiling.CvrAuc, ceiling.CvrOracleAuc)} (AUC {F(ceiling.CvrAuc)})");
        }
        var tiers = FeatureLayout.From(schema).Tables.ToDictionary(t => t.Name, t => t.Tier.ToString().ToLowerInvariant());
        await o.WriteLineAsync("  rows: " + string.Join(", ", outcome.Rows.Select(kv => $"{kv.Key} {kv.Value:N0}{(tiers.TryGetValue(kv.Key, out var tier) ? $" ({tier})" : "")}")));
        if (reader.BadRows.Count > 0)
        {
            await o.WriteLineAsync($"  skipped {reader.BadRows.Count:N0} bad rows: " + string.Join(", ", reader.BadRows.ByReason.Select(kv => $"{kv.Key} {kv.Value:N0}")));
            foreach (var e in reader.BadRows.Examples) await o.WriteLineAsync($"    {e}");
        }
        if (outcome.Cluster is { } cl) await o.WriteLineAsync($"  cluster: {cl["grainCallsPerStep"]} grain calls per step, barrier pause {cl["barrierPauseMs"]} ms");
        if (outcome.Checkpoint is { } ck) await o.WriteLineAsync($"  checkpoint: {ck["model"]} version {ck["version"]} in {ck["store"]}");
    }
}
