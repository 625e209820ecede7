using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Freshet.Bench;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Experiments;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Silo;

namespace Freshet.Drills;

/// <summary>
/// <c>freshet bench scale</c>: one table of the model (by default <c>user</c>, moved to the changing tier) filled with
/// synthetic ids at each size, in process and on a local cluster with its shards: samples/s against the smallest size,
/// memory per row against the raw bytes, checkpoint write and restore against a plain copy of the same files, and a
/// publish with 1% of the rows changed.
/// </summary>
public static class ScaleBench
{
    public static Command Build(CliContext cli)
    {
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON", DefaultValueFactory = _ => "schemas/synthetic.json" };
        var data = new Option<string>("--data") { Description = "Log, folder or 'synthetic': the samples whose ids of the table are replaced", DefaultValueFactory = _ => "synthetic" };
        var table = new Option<string>("--table") { Description = "The id field whose table is filled", DefaultValueFactory = _ => "user" };
        var sizes = new Option<string>("--sizes") { Description = "Table sizes, comma-separated (k and m suffixes)", DefaultValueFactory = _ => "100k,1m,10m" };
        var samples = new Option<int>("--samples") { Description = "Samples trained at each size (in process and on the cluster)", DefaultValueFactory = _ => 100_000 };
        var shards = new Option<int>("--shards") { Description = "Shards of the cluster job", DefaultValueFactory = _ => 4 };
        var noCluster = new Option<bool>("--no-cluster") { Description = "Measure in process only" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("scale", "Large tables: samples/s, bytes per row, checkpoint write and restore, publish with 1% changed, in process and on a local cluster")
        {
            schema, data, table, sizes, samples, shards, noCluster, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var field = p.GetValue(table)!;
            var s = ScaleBenchmark.Schema(SchemaLoader.Load(p.GetValue(schema)!), field);
            var rowCounts = ParseSizes(p.GetValue(sizes)!);
            var count = p.GetValue(samples);
            if (count < 10 * s.Model.BatchSize) throw new ArgumentException($"--samples: at least {10 * s.Model.BatchSize} (ten batches)");
            var layout = FeatureLayout.From(s);
            var index = ScaleBenchmark.IdIndex(layout, field);
            var source = SampleReader.Open(s, p.GetValue(data)!).Read(count, ct).ToList();
            var ctr = source.Where(x => x.Task == TaskKind.Ctr).ToList();
            await cli.Error.WriteLineAsync($"bench: table '{field}' (changing tier here) at {string.Join(", ", rowCounts.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} rows; {source.Count:N0} samples each");

            var results = new JsonArray();
            double? firstInProcess = null, firstCluster = null;
            var peakOverall = 0.0;
            foreach (var rows in rowCounts)
            {
                ProcessMemory.ResetPeak();
                var folder = Path.Combine(Path.GetTempPath(), "freshet-scale-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(folder);
                try
                {
                    // Each phase's peak resident set, the peak reset as the phase starts: where a size's memory goes.
                    // And what is live on the managed heap as each phase ends (after a full collection), next to the resident set then.
                    var phases = new JsonObject();
                    var phaseLive = new JsonObject();
                    void Phase(string name)
                    {
                        phases[name] = Math.Round(ProcessMemory.PeakResidentMegabytes(), 0);
                        var live = GC.GetTotalMemory(forceFullCollection: true) / 1048576.0;
                        phaseLive[name] = new JsonObject { ["liveHeapMb"] = Math.Round(live, 0), ["rssMb"] = Math.Round(Environment.WorkingSet / 1048576.0, 0) };
                        ProcessMemory.ResetPeak();
                    }
                    var local = await ScaleBenchmark.RunAsync(s, field, rows, ctr, source, folder, m => cli.Error.WriteLine($"bench: {m}"), ct, Phase);
                    firstInProcess ??= local.StepSamplesPerSecond;
                    var entry = new JsonObject
                    {
                        ["rows"] = rows,
                        ["inProcessSamplesPerSecond"] = Math.Round(local.StepSamplesPerSecond, 1),
                        ["inProcessVsSmallest"] = Math.Round(local.StepSamplesPerSecond / firstInProcess.Value, 3),
                        ["inProcessTrainerSamplesPerSecond"] = Math.Round(local.TrainerSamplesPerSecond, 1),
                        ["bytesPerRow"] = Math.Round(local.BytesPerRow, 1),
                        ["rawBytesPerRow"] = local.RawBytesPerRow,
                        ["bytesVsRaw"] = Math.Round(local.BytesPerRow / local.RawBytesPerRow, 3),
                        ["checkpointMb"] = Math.Round(local.CheckpointBytes / 1e6, 1),
                        ["checkpointWriteMBps"] = Math.Round(local.WriteMBps, 1),
                        ["checkpointRestoreMBps"] = Math.Round(local.RestoreMBps, 1),
                        ["fileCopyMBps"] = Math.Round(local.CopyMBps, 1),
                        ["writeVsCopy"] = Math.Round(local.WriteMBps / local.CopyMBps, 3),
                        ["restoreVsCopy"] = Math.Round(local.RestoreMBps / local.CopyMBps, 3),
                    };
                    var clusterNeed = ClusterBytesAtLeast(local.CheckpointBytes);
                    var available = ProcessMemory.AvailableBytes();
                    string? skipped = null;
                    if (!p.GetValue(noCluster) && available is { } free && clusterNeed > free)
                    {
                        // Said, not attempted: the cluster half in this process would run the machine out of memory.
                        skipped = $"the cluster half needs at least {clusterNeed / 1e9:F1} GB here (the shards' tables, {TableBytesPerCheckpointByte:F1}x the checkpoint's " +
                            $"{local.CheckpointBytes / 1e9:F1} GB, and the local profile's in-memory grain storage, up to two copies of the changing tier while one is written) " +
                            $"and {free / 1e9:F1} GB is available: run it on silos whose grain state is in Azure storage, or spread the shards over silos";
                        entry["clusterSkipped"] = skipped;
                    }
                    if (!p.GetValue(noCluster) && skipped is null)
                    {
                        var c = await ClusterAsync(cli, s, folder, local.CheckpointVersion, local.CheckpointBytes, rows, index, source, p.GetValue(shards), n => Phase("cluster " + n), ct);
                        firstCluster ??= c.SamplesPerSecond;
                        entry["cluster"] = new JsonObject
                        {
                            ["shards"] = p.GetValue(shards),
                            ["samplesPerSecond"] = Math.Round(c.SamplesPerSecond, 1),
                            ["vsSmallest"] = Math.Round(c.SamplesPerSecond / firstCluster.Value, 3),
                            ["vsInProcessTrainer"] = Math.Round(c.SamplesPerSecond / local.TrainerSamplesPerSecond, 3),
                            ["startFromOneFileSeconds"] = Math.Round(c.StartSeconds, 3),
                            ["restoreSeconds"] = Math.Round(c.RestoreSeconds, 3),
                            ["restoreMBps"] = Math.Round(c.CheckpointBytes / 1e6 / c.RestoreSeconds, 1),
                            ["restoreVsCopy"] = Math.Round(c.CheckpointBytes / 1e6 / c.RestoreSeconds / local.CopyMBps, 3),
                            ["checkpointSeconds"] = Math.Round(c.CheckpointSeconds, 3),
                            ["checkpointMb"] = Math.Round(c.CheckpointBytes / 1e6, 1),
                            ["checkpointWriteMBps"] = Math.Round(c.CheckpointBytes / 1e6 / c.CheckpointSeconds, 1),
                            ["writeVsCopy"] = Math.Round(c.CheckpointBytes / 1e6 / c.CheckpointSeconds / local.CopyMBps, 3),
                            ["publishChangedRows"] = c.PublishRows,
                            ["publishChangedShare"] = Math.Round(c.PublishRows / (double)rows, 4),
                            ["publishMs"] = Math.Round(c.PublishMs, 1),
                            ["publishBarrierPauseMs"] = Math.Round(c.PublishPauseMs, 1),
                            ["publishMb"] = Math.Round(c.PublishBytes / 1e6, 2),
                        };
                    }
                    var peak = phases.Select(kv => kv.Value!.GetValue<double>()).Append(ProcessMemory.PeakResidentMegabytes()).Max();
                    peakOverall = Math.Max(peakOverall, peak);
                    entry["peakRssMb"] = Math.Round(peak, 1);
                    entry["phasePeakRssMb"] = phases;
                    entry["phaseEnd"] = phaseLive;
                    entry["peakVsCheckpoint"] = Math.Round(peak / (local.CheckpointBytes / 1e6), 2);
                    results.Add(entry);
                    await cli.Out.WriteLineAsync($"{rows,12:N0} rows: in process {local.StepSamplesPerSecond,8:N0} samples/s ({local.StepSamplesPerSecond / firstInProcess.Value:F2} of the smallest), " +
                        $"{local.BytesPerRow:F0} bytes a row ({local.BytesPerRow / local.RawBytesPerRow:F2} x raw {local.RawBytesPerRow}), checkpoint {local.CheckpointBytes / 1e6:N0} MB: " +
                        $"write {local.WriteMBps / local.CopyMBps:F2} and restore {local.RestoreMBps / local.CopyMBps:F2} of a file copy ({local.CopyMBps:N0} MB/s); peak RSS {peak:N0} MB " +
                        $"({string.Join(", ", phases.Select(kv => $"{kv.Key} {kv.Value}"))})");
                    if (skipped is not null) await cli.Out.WriteLineAsync($"{"",12}       cluster skipped: {skipped}");
                    if (entry["cluster"] is JsonObject co)
                    {
                        await cli.Out.WriteLineAsync($"{"",12}       cluster {co["samplesPerSecond"]} samples/s ({co["vsSmallest"]} of the smallest, {co["vsInProcessTrainer"]} of the in-process trainer's {local.TrainerSamplesPerSecond:N0}), restore {co["restoreVsCopy"]} and checkpoint {co["writeVsCopy"]} of a file copy, " +
                            $"publish of {co["publishChangedRows"]} changed rows in {co["publishMs"]} ms");
                    }
                }
                finally
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            if (p.GetValue(json))
            {
                JsonResult.Write(cli.Out, new JsonObject
                {
                    ["command"] = "bench scale",
                    ["table"] = field,
                    ["samples"] = source.Count,
                    ["sizes"] = results,
                    ["peakRssMb"] = Math.Round(peakOverall, 1),
                });
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>A table in memory against its checkpoint's bytes (1.29-1.33 measured: the id map and the arrays' spare capacity).</summary>
    private const double TableBytesPerCheckpointByte = 1.35;

    /// <summary>
    /// The least memory the cluster half takes for a checkpoint of <paramref name="checkpointBytes"/>: the shards' tables and two copies
    /// of the changing tier in the local profile's in-memory grain storage (the one kept and the one being written).
    /// </summary>
    internal static long ClusterBytesAtLeast(long checkpointBytes) => (long)(checkpointBytes * (TableBytesPerCheckpointByte + 2));

    private sealed record ClusterResult(double SamplesPerSecond, double StartSeconds, double RestoreSeconds, double CheckpointSeconds, long CheckpointBytes, long PublishRows, double PublishMs, double PublishPauseMs, long PublishBytes);

    /// <summary>
    /// On a local cluster over the same checkpoint folder: a job started from the in-process checkpoint (one file: each shard
    /// reads it and keeps its own ids), trained on the samples with the table's ids drawn from all rows, checkpointed (a file
    /// per shard), published once, trained on samples touching 1% of the rows and published again (the measured publish),
    /// and restored from its own checkpoint (the measured restore).
    /// </summary>
    private static async Task<ClusterResult> ClusterAsync(CliContext cli, FeatureSchema s, string folder, long version, long bytes, long rows, int index, List<Sample> source, int shards, Action<string> phaseDone, CancellationToken ct)
    {
        await cli.Error.WriteLineAsync($"bench: {rows:N0} rows: a {shards}-shard job on a local silo, restored from checkpoint {version}");
        await using var cluster = await LocalCluster.StartAsync(folder, ct);
        var client = new FreshetClient(cluster.Client);
        var name = "scale-" + rows.ToString(CultureInfo.InvariantCulture);
        var job = client.Job(name);
        var restore = Stopwatch.StartNew();
        // The streams stay open between phases, so the last partial batches would wait out MaxBatchWait (a second each, CTR
        // then CVR) before the samples count as trained: seconds of idle time in a few seconds of training. A short wait
        // measures the training instead.
        await job.CreateAsync(new JobSpec { Model = s.Name, SchemaJson = s.Json, Shards = shards, RestoreVersion = version, FreshRowBudget = 0, MaxBatchWait = TimeSpan.FromMilliseconds(20) });
        await job.StartAsync();
        restore.Stop();
        phaseDone("start");

        var random = new Random(23);
        var uniform = source.Select(x => ScaleBenchmark.WithId(x, index, ScaleBenchmark.Id(random.NextInt64(rows)))).ToList();
        var publisher = new SamplePublisher(cluster.Client, name, 1);
        var train = Stopwatch.StartNew();
        await TrainAsync(job, publisher, uniform, 0, ct);
        train.Stop();
        await cli.Error.WriteLineAsync($"bench: {rows:N0} rows: cluster {uniform.Count / train.Elapsed.TotalSeconds:N0} samples/s");
        phaseDone("train");

        var checkpoint = Stopwatch.StartNew();
        var written = await job.CheckpointAsync();
        checkpoint.Stop();
        phaseDone("checkpoint");
        await job.PublishAsync(); // the job's first publish: its base checkpoint, then a delta of what changed since

        // 1% of the rows, each touched once: sample k takes row k * 100.
        var onePercent = (int)Math.Max(1, rows / 100);
        var touched = Enumerable.Range(0, onePercent).Select(k => ScaleBenchmark.WithId(source[k % source.Count], index, ScaleBenchmark.Id(k * 100L))).ToList();
        await TrainAsync(job, publisher, touched, uniform.Count, ct);
        var publish = Stopwatch.StartNew();
        var published = await job.PublishAsync();
        publish.Stop();
        phaseDone("publish");

        // Every tier back from the cluster's own checkpoint (one file per shard, each shard reading its own).
        var reload = Stopwatch.StartNew();
        await job.RestoreAsync(written.Version, s.Name);
        reload.Stop();
        phaseDone("restore");
        await job.StopAsync();
        return new ClusterResult(uniform.Count / train.Elapsed.TotalSeconds, restore.Elapsed.TotalSeconds, reload.Elapsed.TotalSeconds, checkpoint.Elapsed.TotalSeconds, written.Bytes,
            published.ChangingRows, publish.Elapsed.TotalMilliseconds, published.BarrierPauseMs, published.Bytes);
    }

    /// <summary>Publishes the samples (the streams stay open) and waits until the trainer has trained them.</summary>
    private static async Task TrainAsync(Jobs.ITrainingOrchestratorGrain job, SamplePublisher publisher, List<Sample> samples, long before, CancellationToken ct)
    {
        await publisher.PublishAsync(samples, end: false, cancellationToken: ct);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await job.GetStatusAsync();
            if (status.State == JobState.Failed) throw new JobRequestException($"job {status.Job} failed: {status.Error}");
            if (status.Trainers.Sum(t => t.SamplesTrained) >= before + samples.Count) return;
            if (deadline.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException($"job {status.Job} trained {status.Trainers.Sum(t => t.SamplesTrained):N0} of {before + samples.Count:N0} samples in 10 minutes");
            await Task.Delay(10, ct);
        }
    }

    /// <summary>"100k,1m,10m" as row counts, ascending.</summary>
    internal static IReadOnlyList<long> ParseSizes(string text)
    {
        var list = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (digits, scale) = char.ToLowerInvariant(part[^1]) switch
            {
                'k' => (part[..^1], 1_000L),
                'm' => (part[..^1], 1_000_000L),
                _ => (part, 1L),
            };
            if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0 || n * scale > int.MaxValue / 2)
            {
                throw new ArgumentException($"--sizes: '{part}' is not a row count (a positive number with an optional k or m suffix, at most 1000m)");
            }
            list.Add((long)(n * scale));
        }
        if (list.Count == 0) throw new ArgumentException("--sizes: give at least one size, e.g. 100k,1m,10m");
        return [.. list.Order()];
    }
}
