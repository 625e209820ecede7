using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Experiments;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Synthetic;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Drills;

/// <summary>
/// <c>freshet bench serve</c>: a training silo and a serving silo in this process, the model trained on a stream and
/// publishing every interval; an SDK client connected to the serving silo's gateway (a real client over TCP) scores
/// synthetic requests with 1 and 8 concurrent callers at 1, 100 and 1000 rows a call, and a full checkpoint is swapped in
/// during one case. Each case is measured again on a replica in this process loaded from the same checkpoint, with the
/// same featurizing and scoring and no RPC: the reference the SDK path is a ratio of.
/// </summary>
public static class ServeBench
{
    private sealed record Measure(long Calls, long Rows, double Seconds, double P50Ms, double P99Ms, long Errors, string? FirstError)
    {
        public double RowsPerSecond => Rows / Seconds;
    }

    /// <summary>How long a case goes on past its time waiting for its checkpoint swap.</summary>
    private static readonly TimeSpan UntilLimit = TimeSpan.FromMinutes(2);

    public static Command Build(CliContext cli)
    {
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON (requests are synthetic rows: the schema must read the synthetic stream)", DefaultValueFactory = _ => "schemas/synthetic.json" };
        var seconds = new Option<double>("--seconds") { Description = "Seconds each case scores for, on each path", DefaultValueFactory = _ => 4 };
        var feedRate = new Option<int>("--feed-rate") { Description = "Samples per second streamed to the trainer while serving is measured", DefaultValueFactory = _ => 2000 };
        var interval = new Option<string>("--interval") { Description = "Publish interval", DefaultValueFactory = _ => "1s" };
        var shards = new Option<int>("--shards") { Description = "Embedding shard grains", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("serve", "Scoring through the SDK (1 and 8 clients, 1/100/1000 rows a call) while the trainer publishes, next to an in-process replica")
        {
            schema, seconds, feedRate, interval, shards, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var s = SchemaLoader.Load(p.GetValue(schema)!);
            var caseSeconds = p.GetValue(seconds);
            if (caseSeconds <= 0) throw new ArgumentException("--seconds: must be positive");
            var rate = p.GetValue(feedRate);
            if (rate < 1) throw new ArgumentException("--feed-rate: must be at least 1 sample per second");
            var every = Durations.Parse(p.GetValue(interval)!, "--interval");
            if (every <= TimeSpan.Zero) throw new ArgumentException("--interval: must be positive");
            var requests = RequestRows(s, 5_000);

            var folder = Path.Combine(Path.GetTempPath(), "freshet-serve-" + Guid.NewGuid().ToString("N"));
            try
            {
                await using var bench = await TwoSiloDeployment.StartAsync(cli, folder, "serve", s, p.GetValue(shards), every, ct);
                var (cluster, admin, spec, publisher) = (bench.Cluster, bench.Client, bench.Spec, bench.Publisher);
                using var feed = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var reader = SampleReader.Open(s, SampleReader.SyntheticData);
                var feeding = Task.Run(() => publisher.PublishAsync(Paced(reader.Read(null, feed.Token), rate, feed.Token), end: false, cancellationToken: feed.Token), feed.Token);

                // The first publish writes the base checkpoint; wait for the serving silo's replica and a few deltas on it.
                await cli.Error.WriteLineAsync($"bench: training at {rate:N0} samples/s, publishing every {Durations.Format(every)}; waiting for the serving replica");
                var start = await WaitAsync(admin, spec.Model, r => r.Applied >= 3, feeding, TimeSpan.FromMinutes(3), ct);

                // The SDK as an application uses it: its own host and client, connected to the serving silo's gateway.
                var builder = Host.CreateApplicationBuilder([]);
                builder.Logging.ClearProviders();
                builder.AddFreshetClient(o =>
                {
                    o.GatewayPort = cluster.GatewayPorts[1];
                    o.ClusterId = cluster.ClusterId;
                });
                using var app = builder.Build();
                await app.StartAsync(ct);
                var sdk = app.Services.GetRequiredService<FreshetClient>();

                // The in-process reference: a replica of the same checkpoint, the silo's featurizer, no RPC (so a model's sequence
                // fields are scored empty here, while the silo reads them from their grains: the ratio includes those reads).
                using var local = new ServingReplica(s, spec.Model);
                await local.LoadAsync(new LocalCheckpointStore(folder), start.Weights!.Value.Checkpoint, ct);
                var featurizer = new RequestFeaturizer(s, liveSequences: true);

                var cases = new JsonArray();
                var breakdown = new JsonArray();
                var table = new List<string>();
                JsonObject? swap = null;
                foreach (var clients in new[] { 1, 8 })
                {
                    foreach (var rows in new[] { 1, 100, 1000 })
                    {
                        // One full checkpoint is written and swapped in on the serving silo during this case (the goal case).
                        var swapHere = clients == 1 && rows == 100;
                        await cli.Error.WriteLineAsync($"bench: {clients} client(s) x {rows} rows a call{(swapHere ? ", with a checkpoint swap" : "")}");
                        var seen = new ConcurrentDictionary<long, byte>();
                        var swapping = swapHere ? SwapAsync(admin, spec.Model, caseSeconds / 2, ct) : null;
                        // With a swap, the case lasts until the serving silo has swapped and a call was answered from the new checkpoint.
                        var answeredNew = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        var until = swapping is null ? null : Task.WhenAll(swapping, answeredNew.Task);
                        var sdkMeasure = await RunAsync(clients, rows, requests, caseSeconds, until, async batch =>
                        {
                            var answers = await sdk.ScoreAsync(spec.Model, batch);
                            var checkpoint = answers[0].Weights.Checkpoint;
                            seen.TryAdd(checkpoint, 0);
                            if (swapping is { IsCompletedSuccessfully: true } && checkpoint == swapping.Result.To) answeredNew.TrySetResult();
                        }, ct);
                        if (swapping is not null)
                        {
                            var (from, to) = await swapping;
                            if (!answeredNew.Task.IsCompleted) throw new TimeoutException($"bench: no call was answered from checkpoint {to} within {UntilLimit.TotalMinutes:F0} minutes of the swap");
                            swap = new JsonObject
                            {
                                ["clients"] = clients, ["rows"] = rows, ["fromCheckpoint"] = from, ["toCheckpoint"] = to,
                                ["checkpointsAnswered"] = new JsonArray([.. seen.Keys.Order().Select(k => (JsonNode?)k)]),
                            };
                        }
                        var inProcess = await RunAsync(clients, rows, requests, caseSeconds, null, batch =>
                        {
                            local.Score(featurizer.Featurize([.. batch.Select(r => r.Values)], DateTime.UtcNow, ScoreRequest.MaxRows));
                            return Task.CompletedTask;
                        }, ct);
                        var ratio = sdkMeasure.RowsPerSecond / inProcess.RowsPerSecond;
                        if (clients == 1 && rows > 1)
                        {
                            breakdown.Add(ServeBreakdown.Measure(app.Services.GetRequiredService<Orleans.Serialization.Serializer>(), local, featurizer, requests, spec.Model, rows, sdkMeasure.P50Ms));
                        }
                        table.Add($"  {clients,2} x {rows,4} rows   sdk {sdkMeasure.RowsPerSecond,10:N0} rows/s  p50 {sdkMeasure.P50Ms,7:F2} ms  p99 {sdkMeasure.P99Ms,7:F2} ms  errors {sdkMeasure.Errors}"
                            + $"   in-process {inProcess.RowsPerSecond,10:N0} rows/s  p50 {inProcess.P50Ms,7:F2} ms  p99 {inProcess.P99Ms,7:F2} ms   sdk/in-process {ratio:F2}");
                        cases.Add(new JsonObject
                        {
                            ["clients"] = clients,
                            ["rows"] = rows,
                            ["calls"] = sdkMeasure.Calls,
                            ["rowsPerSecond"] = Math.Round(sdkMeasure.RowsPerSecond, 1),
                            ["p50Ms"] = JsonResult.Metric(sdkMeasure.P50Ms, 3),
                            ["p99Ms"] = JsonResult.Metric(sdkMeasure.P99Ms, 3),
                            ["errors"] = sdkMeasure.Errors,
                            ["firstError"] = sdkMeasure.FirstError,
                            ["inProcessRowsPerSecond"] = Math.Round(inProcess.RowsPerSecond, 1),
                            ["inProcessP50Ms"] = JsonResult.Metric(inProcess.P50Ms, 3),
                            ["inProcessP99Ms"] = JsonResult.Metric(inProcess.P99Ms, 3),
                            ["inProcessErrors"] = inProcess.Errors,
                            ["sdkVsInProcess"] = JsonResult.Metric(ratio, 3),
                            ["checkpointSwap"] = swapHere,
                        });
                    }
                }
                // The transport's floor: the SDK's client calling the scoring grain for its replica's status (no featurizing, no scoring).
                var floor = await ServeBreakdown.CallFloorMsAsync(app.Services.GetRequiredService<IClusterClient>(), spec.Model);
                var end = await admin.GetStatusAsync(spec.Model);
                var replica = end.Replicas.First();
                var trained = (end.Deployment.Main?.Trainers.Sum(t => t.SamplesTrained) ?? 0);
                await feed.CancelAsync();
                try { await feeding; } catch (OperationCanceledException) { }
                await admin.StopAsync(spec.Model);
                await app.StopAsync(CancellationToken.None);

                var applied = replica.Applied - start.Applied;
                var peak = ProcessMemory.PeakResidentMegabytes();
                await cli.Out.WriteLineAsync($"scoring through the SDK (a client on the serving silo's gateway) while training publishes every {Durations.Format(every)}; in-process: a replica in this process, same featurizing:");
                foreach (var line in table) await cli.Out.WriteLineAsync(line);
                await cli.Out.WriteLineAsync($"where one client's call goes, each stage alone in this process (median ms); a call that does no work takes {floor:F3} ms (p50):");
                foreach (var b in breakdown) await cli.Out.WriteLineAsync(ServeBreakdown.Line((JsonObject)b!));
                await cli.Out.WriteLineAsync($"deltas applied on the serving silo meanwhile: {applied}; checkpoint swap: {swap?["fromCheckpoint"]} -> {swap?["toCheckpoint"]}; peak resident memory {peak:N0} MB");
                if (p.GetValue(json))
                {
                    JsonResult.Write(cli.Out, new JsonObject
                    {
                        ["command"] = "bench serve",
                        ["publishIntervalMs"] = every.TotalMilliseconds,
                        ["feedSamplesPerSecond"] = rate,
                        ["secondsPerCase"] = caseSeconds,
                        ["cases"] = cases,
                        ["breakdown"] = breakdown,
                        ["callFloorP50Ms"] = JsonResult.Metric(floor, 4),
                        ["deltasApplied"] = applied,
                        ["replicaGaps"] = replica.Gaps,
                        ["replicaDuplicates"] = replica.Duplicates,
                        ["samplesTrained"] = trained,
                        ["checkpointSwap"] = swap,
                        ["peakRssMb"] = Math.Round(peak, 1),
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

    /// <summary>
    /// <paramref name="clients"/> callers each scoring <paramref name="rows"/> rows a call, back to back, for
    /// <paramref name="seconds"/> (and until <paramref name="until"/> is done, when given); latency per call.
    /// </summary>
    private static async Task<Measure> RunAsync(int clients, int rows, IReadOnlyList<ScoreRow> requests, double seconds, Task? until, Func<ScoreRow[], Task> call, CancellationToken ct)
    {
        var latencies = new ConcurrentBag<double>();
        long calls = 0, errors = 0;
        string? firstError = null;
        // Warm-up calls, not counted: the first call of a size builds buffers.
        for (var i = 0; i < 3; i++) await call([.. requests.Take(rows)]);
        var clock = Stopwatch.StartNew();
        var stopAt = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var next = c * 997;
            var batch = new ScoreRow[rows];
            while ((clock.Elapsed < stopAt || (until is { IsCompleted: false } && clock.Elapsed < stopAt + UntilLimit)) && !ct.IsCancellationRequested)
            {
                for (var i = 0; i < rows; i++) batch[i] = requests[(next + i) % requests.Count];
                next += rows;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await call(batch);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref calls);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    if (Interlocked.Increment(ref errors) == 1) firstError = $"{e.GetType().Name}: {e.Message}";
                }
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return new Measure(calls, calls * rows, elapsed, Percentile(sorted, 0.5), Percentile(sorted, 0.99), errors, firstError);
    }

    /// <summary>After <paramref name="delaySeconds"/>, writes a full checkpoint and waits until the serving silo has swapped to it.</summary>
    private static async Task<(long From, long To)> SwapAsync(FreshetClient admin, string model, double delaySeconds, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(delaySeconds), ct);
        var before = (await admin.GetStatusAsync(model)).Replicas.First().Weights!.Value.Checkpoint;
        await admin.CheckpointAsync(model);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var now = (await admin.GetStatusAsync(model)).Replicas.First().Weights?.Checkpoint;
            if (now is { } c && c != before) return (before, c);
            if (deadline.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"bench: the serving silo did not swap from checkpoint {before} within 2 minutes");
            await Task.Delay(50, ct);
        }
    }

    private static async Task<ReplicaStatus> WaitAsync(FreshetClient client, string model, Func<ReplicaStatus, bool> ready, Task feeding, TimeSpan limit, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (feeding.IsFaulted) await feeding;
            var status = await client.GetStatusAsync(model);
            if (status.Replicas.FirstOrDefault() is { Weights: not null } r && ready(r)) return r;
            if (clock.Elapsed > limit) throw new TimeoutException($"bench: the serving replica was not ready within {limit.TotalMinutes:F0} minutes");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Requests as an application sends them: the synthetic stream's raw rows, field name to text value.</summary>
    /// <summary>A synthetic request row with what then happened to it.</summary>
    internal sealed record LabelledRow(ScoreRow Row, bool Click, bool Conversion);

    /// <summary>The schema's synthetic stream as request rows with their labels, without end.</summary>
    internal static IEnumerable<LabelledRow> LabelledRows(FeatureSchema schema)
    {
        var fields = RequestFields(schema);
        var (click, conversion) = (SyntheticStream.Columns.ToList().IndexOf("click"), SyntheticStream.Columns.ToList().IndexOf("conversion"));
        var source = new SyntheticStream(schema.Source.Synthetic ?? new SyntheticOptions());
        foreach (var r in source.Read(new BadRows(BadRowPolicy.Fail)))
        {
            yield return new LabelledRow(new ScoreRow { Values = fields.ToDictionary(f => f.Name, f => r.Columns[f.Index], StringComparer.Ordinal) },
                r.Columns[click] == "1", r.Columns[conversion] == "1");
        }
    }

    internal static List<ScoreRow> RequestRows(FeatureSchema schema, int count)
    {
        var fields = RequestFields(schema);
        var source = new SyntheticStream(schema.Source.Synthetic ?? new SyntheticOptions());
        return [.. source.Read(new BadRows(BadRowPolicy.Fail)).Take(count).Select(r => new ScoreRow { Values = fields.ToDictionary(f => f.Name, f => r.Columns[f.Index], StringComparer.Ordinal) })];
    }

    /// <summary>The schema's fields a request carries, each with its synthetic column.</summary>
    private static (string Name, int Index)[] RequestFields(FeatureSchema schema)
    {
        var columns = SyntheticStream.Columns.ToList();
        var fields = schema.Fields
            .Where(f => f.Kind != FieldKind.Rate && (f.Derive ?? TimeDerivation.None) == TimeDerivation.None && f.Column is not null)
            .Select(f => (f.Name, Index: columns.IndexOf(f.Column!.Split(':')[0])))
            .ToArray();
        var missing = fields.Where(f => f.Index < 0).Select(f => f.Name).ToList();
        if (missing.Count > 0) throw new ArgumentException($"--schema: fields {string.Join(", ", missing)} do not read a column of the synthetic stream; bench serve scores synthetic requests");
        return fields;
    }

    /// <summary>Hands samples on at about <paramref name="perSecond"/>.</summary>
    internal static IEnumerable<Sample> Paced(IEnumerable<Sample> samples, int perSecond, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long n = 0;
        foreach (var sample in samples)
        {
            yield return sample;
            if (++n % 100 != 0) continue;
            var ahead = TimeSpan.FromSeconds((double)n / perSecond) - clock.Elapsed;
            if (ahead > TimeSpan.Zero) ct.WaitHandle.WaitOne(ahead);
        }
    }

    internal static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(q * sorted.Count) - 1)];
}
