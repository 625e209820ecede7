using Freshet.Experiments;
using Freshet.Silo;
using System.CommandLine;
using System.Text.Json.Nodes;
using Freshet.Bench;
using Freshet.Tools.Cluster;
using Freshet.Tools.Output;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using TorchSharp;

namespace Freshet.Drills;

/// <summary><c>freshet bench ...</c>: benchmarks, reported as ratios against a baseline measured in the same run.</summary>
public static class BenchCommand
{
    public static Command Build(CliContext cli)
    {
        var bench = new Command("bench", "Benchmarks (figures are ratios against a baseline measured in the same run)");
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON", DefaultValueFactory = _ => "schemas/synthetic.json" };
        var data = new Option<string>("--data") { Description = "Log, folder or 'synthetic'", DefaultValueFactory = _ => "synthetic" };
        var samples = new Option<long>("--samples") { Description = "Samples for the trainer runs", DefaultValueFactory = _ => 200_000 };
        var reference = new Option<bool>("--toolchain-reference") { Description = "Also time the toolchain note's reference model (26 fields, batch 1024)" };
        var threads = new Option<int?>("--threads") { Description = "TorchSharp threads (default: the number of cores)" };
        var shards = new Option<int>("--shards") { Description = "Shards of the cluster run", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var batchSizes = new Option<string?>("--batch-sizes") { Description = "Also measure the trainer, its step and the bare loop at these batch sizes (e.g. 32,64,256)" };
        var sweepSamples = new Option<long>("--sweep-samples") { Description = "Samples for each batch size of --batch-sizes", DefaultValueFactory = _ => 60_000 };
        var trainerCounts = new Option<string?>("--trainers") { Description = "Also run the cluster job with these numbers of trainers, each on a fresh local silo (e.g. 1,2,4)" };
        var train = new Command("train", "samples/s of the streaming trainer and its step next to a bare TorchSharp loop over the same model")
        {
            schema, data, samples, reference, threads, shards, batchSizes, sweepSamples, trainerCounts, json,
        };
        train.SetAction(async (p, ct) =>
        {
            torch.set_num_threads(p.GetValue(threads) ?? Environment.ProcessorCount);
            var s = SchemaLoader.Load(p.GetValue(schema)!);
            var sizes = ParseCounts(p.GetValue(batchSizes), "--batch-sizes", "batch size", 65_536).ToList(); // checked before the long runs
            var counts = ParseCounts(p.GetValue(trainerCounts), "--trainers", "number of trainers", 64).ToList();
            var r = await TrainBenchmark.RunAsync(s, p.GetValue(data)!, p.GetValue(samples), p.GetValue(reference), m => cli.Error.WriteLine($"bench: {m}"), ct);
            var b = r.Bare.SamplesPerSecond;

            // The same model on the same stream through a local cluster (grains, streams, one trainer).
            await cli.Error.WriteLineAsync("bench: cluster: the same job on a silo in this process (shard and dense grains, sample streams), after a warm-up job");
            var cluster = await RunClusterAsync(s, p.GetValue(data)!, p.GetValue(samples), p.GetValue(shards), trainers: 1, ct);
            var local = r.Trainer.SamplesPerSecond;
            var clusterRate = cluster.Report.Samples / cluster.Seconds;
            await cli.Out.WriteLineAsync($"bare TorchSharp loop        {b,10:N0} samples/s  1.00");
            await cli.Out.WriteLineAsync($"bare loop + scoring         {r.BareWithScoring.SamplesPerSecond,10:N0} samples/s  {r.BareWithScoring.SamplesPerSecond / b:F2}");
            await cli.Out.WriteLineAsync($"freshet step (in memory)    {r.StepOnly.SamplesPerSecond,10:N0} samples/s  {r.StepOnly.SamplesPerSecond / b:F2}");
            await cli.Out.WriteLineAsync($"step on the trainer's batches {r.StepSameBatches.SamplesPerSecond,8:N0} samples/s  {r.StepSameBatches.SamplesPerSecond / b:F2}  (CTR and CVR batches at their sizes)");
            await cli.Out.WriteLineAsync($"reading + featurizing alone {r.Reader.SamplesPerSecond,10:N0} samples/s  {r.Reader.SamplesPerSecond / b:F2}  (what feeds the trainer, one thread)");
            await cli.Out.WriteLineAsync($"freshet train (end to end)  {r.Trainer.SamplesPerSecond,10:N0} samples/s  {r.Trainer.SamplesPerSecond / b:F2}  ({r.Trainer.SamplesPerSecond / r.StepOnly.SamplesPerSecond:F2} of the step, {r.Trainer.SamplesPerSecond / r.StepSameBatches.SamplesPerSecond:F2} of it on the same batches)");
            await cli.Out.WriteLineAsync($"freshet train --cluster     {clusterRate,10:N0} samples/s  {clusterRate / b:F2}  ({clusterRate / local:F2} of in-process, {cluster.GrainCallsPerStep:F1} grain calls per step)");
            await cli.Out.WriteLineAsync($"CTR AUC in process {r.TrainerCtrAuc:F4}, on the cluster {cluster.Report.Ctr.Auc:F4}; the best counting baseline on the same samples {r.TrainerCtrBestBaselineAuc:F4}");
            if (r.ToolchainReference is { } t) await cli.Out.WriteLineAsync($"toolchain reference model   {t.SamplesPerSecond,10:N0} samples/s (the toolchain note measured 63-67k)");
            // The same three at other batch sizes (the schema's model.batchSize changed), each next to the bare loop at that size.
            var sweep = new JsonArray();
            foreach (var size in sizes)
            {
                var json2 = System.Text.Json.Nodes.JsonNode.Parse(s.Json)!.AsObject();
                if (json2["model"] is not JsonObject model) json2["model"] = model = new JsonObject();
                model["batchSize"] = size;
                var sized = SchemaLoader.Parse(json2.ToJsonString(), $"{s.Name} at batch {size}");
                await cli.Error.WriteLineAsync($"bench: batch {size}");
                var x = await TrainBenchmark.RunAsync(sized, p.GetValue(data)!, p.GetValue(sweepSamples), false, m => cli.Error.WriteLine($"bench: batch {size}: {m}"), ct);
                var bareAt = x.Bare.SamplesPerSecond;
                await cli.Out.WriteLineAsync($"batch {size,5}: bare {bareAt,9:N0}  step {x.StepOnly.SamplesPerSecond,9:N0} ({x.StepOnly.SamplesPerSecond / bareAt:F2})  trainer {x.Trainer.SamplesPerSecond,9:N0} ({x.Trainer.SamplesPerSecond / x.StepOnly.SamplesPerSecond:F2} of the step)  " +
                    $"{size / x.Trainer.SamplesPerSecond * 1000:F2} ms a trainer step, {size / bareAt * 1000:F2} ms a bare one");
                sweep.Add(new JsonObject
                {
                    ["batchSize"] = size,
                    ["bareSamplesPerSecond"] = Math.Round(bareAt, 1),
                    ["stepSamplesPerSecond"] = Math.Round(x.StepOnly.SamplesPerSecond, 1),
                    ["trainerSamplesPerSecond"] = Math.Round(x.Trainer.SamplesPerSecond, 1),
                    ["stepVsBare"] = Math.Round(x.StepOnly.SamplesPerSecond / bareAt, 3),
                    ["trainerVsStep"] = Math.Round(x.Trainer.SamplesPerSecond / x.StepOnly.SamplesPerSecond, 3),
                    ["trainerVsBare"] = Math.Round(x.Trainer.SamplesPerSecond / bareAt, 3),
                    ["trainerMsPerStep"] = Math.Round(size / x.Trainer.SamplesPerSecond * 1000, 3),
                    ["stepMsPerStep"] = Math.Round(size / x.StepOnly.SamplesPerSecond * 1000, 3),
                    ["bareMsPerStep"] = Math.Round(size / bareAt * 1000, 3),
                });
            }
            // The cluster job with several trainers (one silo: the trainers share its cores; the dense grain takes every push).
            var byTrainers = new JsonArray();
            var oneRate = clusterRate; // the main cluster run has one trainer
            foreach (var n in counts)
            {
                await cli.Error.WriteLineAsync($"bench: cluster with {n} trainer(s)");
                var x = n == 1 ? cluster : await RunClusterAsync(s, p.GetValue(data)!, p.GetValue(samples), p.GetValue(shards), n, ct);
                var rate = x.Report.Samples / x.Seconds;
                var busy = x.DenseBusySeconds / x.Seconds;
                await cli.Out.WriteLineAsync($"cluster, {n} trainer(s): {rate,9:N0} samples/s ({rate / oneRate:F2} of one)  CTR AUC {x.Report.Ctr.Auc:F4} (best counter {x.Report.Ctr.BestBaselineAuc:F4})  " +
                    $"dense grain busy {busy:P0} of the time  {x.GrainCallsPerStep:F1} grain calls per step");
                byTrainers.Add(new JsonObject
                {
                    ["trainers"] = n,
                    ["clusterSamplesPerSecond"] = Math.Round(rate, 1),
                    ["vsOneTrainer"] = Math.Round(rate / oneRate, 3),
                    ["clusterCtrAuc"] = x.Report.Ctr.Auc is { } a ? Math.Round(a, 6) : null,
                    ["clusterCtrBestBaselineAuc"] = x.Report.Ctr.BestBaselineAuc is { } xb ? Math.Round(xb, 6) : null,
                    ["ctrAucVsOneTrainer"] = x.Report.Ctr.Auc is { } a2 && cluster.Report.Ctr.Auc is { } a1 ? Math.Round(a2 - a1, 6) : null,
                    ["denseBusyFraction"] = Math.Round(busy, 4),
                    ["grainCallsPerStep"] = Math.Round(x.GrainCallsPerStep, 2),
                });
            }
            var peak = ProcessMemory.PeakResidentMegabytes();
            await cli.Out.WriteLineAsync($"peak resident memory {peak:N0} MB");
            if (p.GetValue(json))
            {
                JsonResult.Write(cli.Out, new JsonObject
                {
                    ["command"] = "bench train",
                    ["bareSamplesPerSecond"] = Math.Round(b, 1),
                    ["bareWithScoringSamplesPerSecond"] = Math.Round(r.BareWithScoring.SamplesPerSecond, 1),
                    ["stepSamplesPerSecond"] = Math.Round(r.StepOnly.SamplesPerSecond, 1),
                    ["trainerSamplesPerSecond"] = Math.Round(r.Trainer.SamplesPerSecond, 1),
                    ["stepVsBare"] = Math.Round(r.StepOnly.SamplesPerSecond / b, 3),
                    ["stepVsBareWithScoring"] = Math.Round(r.StepOnly.SamplesPerSecond / r.BareWithScoring.SamplesPerSecond, 3),
                    ["trainerVsBare"] = Math.Round(r.Trainer.SamplesPerSecond / b, 3),
                    ["trainerVsStep"] = Math.Round(r.Trainer.SamplesPerSecond / r.StepOnly.SamplesPerSecond, 3),
                    ["readerSamplesPerSecond"] = Math.Round(r.Reader.SamplesPerSecond, 1),
                    ["stepSameBatchesSamplesPerSecond"] = Math.Round(r.StepSameBatches.SamplesPerSecond, 1),
                    ["trainerVsStepSameBatches"] = Math.Round(r.Trainer.SamplesPerSecond / r.StepSameBatches.SamplesPerSecond, 3),
                    ["localSamplesPerSecond"] = Math.Round(local, 1),
                    ["clusterSamplesPerSecond"] = Math.Round(clusterRate, 1),
                    ["ratio"] = Math.Round(clusterRate / local, 3),
                    ["grainCallsPerStep"] = Math.Round(cluster.GrainCallsPerStep, 2),
                    ["localCtrAuc"] = r.TrainerCtrAuc is { } la ? Math.Round(la, 6) : null,
                    ["clusterCtrAuc"] = cluster.Report.Ctr.Auc is { } ca ? Math.Round(ca, 6) : null,
                    // the best running counting baseline on the in-process trainer's samples (what users run today)
                    ["ctrBestBaselineAuc"] = r.TrainerCtrBestBaselineAuc is { } bb ? Math.Round(bb, 6) : null,
                    ["clusterCtrBestBaselineAuc"] = cluster.Report.Ctr.BestBaselineAuc is { } cb ? Math.Round(cb, 6) : null,
                    ["toolchainReferenceSamplesPerSecond"] = r.ToolchainReference is { } tr ? Math.Round(tr.SamplesPerSecond, 1) : null,
                    ["rows"] = new JsonObject(r.Rows.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                    ["batchSizes"] = sweep,
                    ["trainerCounts"] = byTrainers,
                    ["peakRssMb"] = Math.Round(peak, 1),
                });
            }
            return 0;
        });
        bench.Subcommands.Add(train);
        bench.Subcommands.Add(FreshnessBench.Build(cli));
        bench.Subcommands.Add(ServeBench.Build(cli));
        bench.Subcommands.Add(ScaleBench.Build(cli));
        return bench;
    }

    /// <summary>
    /// The job on a fresh silo in this process (a fresh one each time: the model's grains would otherwise keep the last
    /// run's weights), measured on its second run: the first, under another model name, warms the silo up as the
    /// in-process trainer is warmed (its first 400 steps ran at half the speed of the next 800).
    /// </summary>
    private static async Task<ClusterTraining.Result> RunClusterAsync(FeatureSchema s, string data, long samples, int shards, int trainers, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), "freshet-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var silo = await LocalCluster.StartAsync(folder, ct);
            var options = new ClusterTraining.Options { Shards = shards, Trainers = trainers };
            var json = JsonNode.Parse(s.Json)!.AsObject();
            json["name"] = s.Name + "-warmup";
            var warmup = SchemaLoader.Parse(json.ToJsonString(), $"{s.Name} (warm-up run)");
            await ClusterTraining.RunAsync(silo.Client, warmup, SampleReader.Open(warmup, data).Read(samples, ct), options, null, ct);
            return await ClusterTraining.RunAsync(silo.Client, s, SampleReader.Open(s, data).Read(samples, ct), options, null, ct);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static IEnumerable<int> ParseCounts(string? text, string option, string what, int max)
    {
        if (string.IsNullOrWhiteSpace(text)) yield break;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1 || n > max)
            {
                throw new ArgumentException($"{option}: '{part}' is not a {what} (a whole number from 1 to {max})");
            }
            yield return n;
        }
    }
}
