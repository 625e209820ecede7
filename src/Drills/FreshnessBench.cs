using Freshet.Experiments;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Drills;

/// <summary>
/// <c>freshet bench freshness</c>: a training silo and a serving silo in this process, a deployment
/// publishing every interval while samples stream in as fast as the trainer takes them; freshness is
/// the time from the snapshot under the barrier to the serving replica having applied the delta.
/// </summary>
public static class FreshnessBench
{
    public static Command Build(CliContext cli)
    {
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON", DefaultValueFactory = _ => "schemas/synthetic.json" };
        var data = new Option<string>("--data") { Description = "Log, folder or 'synthetic'", DefaultValueFactory = _ => "synthetic" };
        var interval = new Option<string>("--interval") { Description = "Publish interval", DefaultValueFactory = _ => "1s" };
        var publishes = new Option<int>("--publishes") { Description = "Publishes to measure (after the first, which writes the base checkpoint)", DefaultValueFactory = _ => 30 };
        var shards = new Option<int>("--shards") { Description = "Embedding shard grains", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("freshness", "Freshness of served weights: snapshot under the barrier to applied on a serving silo, on a local 2-silo cluster")
        {
            schema, data, interval, publishes, shards, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var s = SchemaLoader.Load(p.GetValue(schema)!);
            var every = Durations.Parse(p.GetValue(interval)!, "--interval");
            if (every <= TimeSpan.Zero) throw new ArgumentException("--interval: must be positive");
            var count = p.GetValue(publishes);
            if (count < 1) throw new ArgumentException("--publishes: must be at least 1");
            var reader = SampleReader.Open(s, p.GetValue(data)!);

            var folder = Path.Combine(Path.GetTempPath(), "freshet-freshness-" + Guid.NewGuid().ToString("N"));
            try
            {
                await using var bench = await TwoSiloDeployment.StartAsync(cli, folder, "freshness", s, p.GetValue(shards), every, ct);
                var (cluster, client, spec, publisher) = (bench.Cluster, bench.Client, bench.Spec, bench.Publisher);
                using var feed = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var feeding = Task.Run(() => publisher.PublishAsync(reader.Read(null, feed.Token), end: false, cancellationToken: feed.Token), feed.Token);

                // The first publish writes the base checkpoint; then the serving silo loads its replica.
                var clock = Stopwatch.StartNew();
                ModelStatus status;
                while (true)
                {
                    if (feeding.IsFaulted) await feeding;
                    var d = await client.GetStatusAsync(spec.Model);
                    status = d;
                    if (d.Replicas.Any()) break;
                    if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("bench: no replica on the serving silo after 2 minutes");
                    await Task.Delay(100, ct);
                }
                var replica = status.Replicas.First();
                var start = replica.Applied;
                var trainedAtStart = status.Deployment.Main?.Trainers.Sum(t => t.SamplesTrained) ?? 0;
                var measureClock = Stopwatch.StartNew();
                var progress = new ProgressBar(cli.Error, cli.Interactive, count);
                var deadline = TimeSpan.FromTicks(every.Ticks * count * 4) + TimeSpan.FromMinutes(1);
                while (true)
                {
                    status = await client.GetStatusAsync(spec.Model);
                    replica = status.Replicas.First();
                    progress.Report(replica.Applied - start, $"{replica.Applied - start} of {count} deltas applied on the serving silo");
                    if (replica.Applied - start >= count) break;
                    if (feeding.IsFaulted) await feeding;
                    if (measureClock.Elapsed > deadline) throw new TimeoutException($"bench: {replica.Applied - start} of {count} deltas applied in {measureClock.Elapsed.TotalSeconds:F0} s");
                    await Task.Delay(Math.Min(250, (int)every.TotalMilliseconds), ct);
                }
                progress.Done();
                var seconds = measureClock.Elapsed.TotalSeconds;
                var trained = (status.Deployment.Main?.Trainers.Sum(t => t.SamplesTrained) ?? 0) - trainedAtStart;
                await feed.CancelAsync();
                try { await feeding; } catch (OperationCanceledException) { }
                await client.StopAsync(spec.Model);

                var freshness = replica.FreshnessMs.TakeLast(count).ToArray();
                var events = status.Deployment.Events.Where(e => e.Kind == DeploymentEventKind.Publish).TakeLast(count).ToArray();
                var bytes = events.Average(e => (double)(e.Bytes ?? 0));
                var rows = events.Average(e => (double)(e.Rows ?? 0));
                var barrier = events.Select(e => e.BarrierPauseMs ?? 0).ToArray();
                var send = events.Select(e => e.SendMs ?? 0).ToArray();
                var p50 = Percentile(freshness, 0.5);
                var p99 = Percentile(freshness, 0.99);
                await cli.Out.WriteLineAsync($"freshness over {freshness.Length} publishes every {Durations.Format(every)} (training silo -> serving silo, trainer busy):");
                await cli.Out.WriteLineAsync($"  snapshot -> applied on serving   p50 {p50,8:F1} ms   p99 {p99,8:F1} ms   max {freshness.Max(),8:F1} ms");
                await cli.Out.WriteLineAsync($"  of which snapshot -> sent        p50 {Percentile(send, 0.5),8:F1} ms   p99 {Percentile(send, 0.99),8:F1} ms   (take deltas, encode, retain in the store, send chunks)");
                var delivered = replica.DeliveredMs.TakeLast(count).ToArray();
                var apply = replica.ApplyMs.TakeLast(count).ToArray();
                await cli.Out.WriteLineAsync($"  snapshot -> last chunk arrived   p50 {Percentile(delivered, 0.5),8:F1} ms   p99 {Percentile(delivered, 0.99),8:F1} ms   (the above, then the weights stream: its polling and delivery)");
                await cli.Out.WriteLineAsync($"  arrived -> applied               p50 {Percentile(apply, 0.5),8:F1} ms   p99 {Percentile(apply, 0.99),8:F1} ms   (decode, the replica's write lock, apply)");
                await cli.Out.WriteLineAsync($"  barrier pause                    p50 {Percentile(barrier, 0.5),8:F1} ms   p99 {Percentile(barrier, 0.99),8:F1} ms");
                await cli.Out.WriteLineAsync($"  per publish: {bytes / 1024:N1} KB, {rows:N0} rows; trainer {trained / seconds:N0} samples/s meanwhile");
                if (p.GetValue(json))
                {
                    JsonResult.Write(cli.Out, new JsonObject
                    {
                        ["command"] = "bench freshness",
                        ["intervalMs"] = every.TotalMilliseconds,
                        ["publishes"] = freshness.Length,
                        ["p50Ms"] = JsonResult.Metric(p50, 1),
                        ["p99Ms"] = JsonResult.Metric(p99, 1),
                        ["maxMs"] = JsonResult.Metric(freshness.Max(), 1),
                        ["sendMsP50"] = JsonResult.Metric(Percentile(send, 0.5), 1),
                        ["sendMsP99"] = JsonResult.Metric(Percentile(send, 0.99), 1),
                        ["deliveredMsP50"] = JsonResult.Metric(Percentile(delivered, 0.5), 1),
                        ["deliveredMsP99"] = JsonResult.Metric(Percentile(delivered, 0.99), 1),
                        ["applyMsP50"] = JsonResult.Metric(Percentile(apply, 0.5), 1),
                        ["applyMsP99"] = JsonResult.Metric(Percentile(apply, 0.99), 1),
                        ["deltaBytesPerPublish"] = Math.Round(bytes, 0),
                        ["rowsPerPublish"] = Math.Round(rows, 1),
                        ["barrierPauseMsP50"] = JsonResult.Metric(Percentile(barrier, 0.5), 1),
                        ["barrierPauseMsP99"] = JsonResult.Metric(Percentile(barrier, 0.99), 1),
                        ["samplesPerSecond"] = Math.Round(trained / seconds, 1),
                        ["replicaDuplicates"] = replica.Duplicates,
                        ["replicaGaps"] = replica.Gaps,
                    });
                }
            }
            finally
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
            return 0;
        });
        return cmd;
    }

    private static double Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(q * sorted.Length) - 1)];
    }
}
