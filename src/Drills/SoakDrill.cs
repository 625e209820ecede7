using Freshet.Grains.Placement;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Tools.Cluster;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Experiments;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Serving;
using Microsoft.Extensions.Hosting;

namespace Freshet.Drills;

/// <summary>
/// <c>freshet drill soak</c>: a silo in a process of its own (training and serving, local profile) trains on the
/// synthetic stream of a high-cardinality schema (its tables admit, expire and evict) while it publishes every interval
/// and an SDK client scores against it, for as many samples as asked. The silo's resident memory and managed heap are
/// read through the run against the samples trained; their slope after the warm-up says whether anything grows with the
/// samples seen. What was produced and never trained is counted.
/// </summary>
public static class SoakDrill
{
    /// <summary>Samples before the slopes are fitted: memory settles (tables fill to their caps, the heap to its budget).</summary>
    public const long WarmUpSamples = 2_000_000;

    public static Command Build(CliContext cli)
    {
        var samples = new Option<long>("--samples") { Description = "Samples to produce and train", DefaultValueFactory = _ => 20_000_000 };
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON (a synthetic source; scoring requests are its rows)", DefaultValueFactory = _ => "schemas/soak.json" };
        var interval = new Option<string>("--interval") { Description = "Publish interval", DefaultValueFactory = _ => "1s" };
        var shards = new Option<int>("--shards") { Description = "Embedding shard grains", DefaultValueFactory = _ => 4 };
        var scoreRate = new Option<double>("--score-rate") { Description = "SDK scoring calls per second (0: none)", DefaultValueFactory = _ => 20 };
        var rows = new Option<int>("--rows") { Description = "Rows a scoring call", DefaultValueFactory = _ => 100 };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Ask for a full checkpoint every this many samples trained (0: none)", DefaultValueFactory = _ => 5_000_000 };
        var feedback = new Option<bool>("--feedback")
        {
            Description = "Run the feedback loop too: each scored row's click and conversion (the stream's labels) are reported, so joiners train on them and keep the schema's live sequences",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("soak", "Train and serve a high-cardinality stream for a long run in a silo process, reading its memory against the samples trained")
        {
            samples, schema, interval, shards, scoreRate, rows, checkpointEvery, feedback, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var settings = new Settings(
                p.GetValue(samples), SchemaLoader.Load(p.GetValue(schema)!), Durations.Parse(p.GetValue(interval)!, "--interval"), p.GetValue(shards),
                p.GetValue(scoreRate), p.GetValue(rows), p.GetValue(checkpointEvery), p.GetValue(feedback));
            settings.Validate();
            var result = await RunAsync(cli, settings, ct);
            if (p.GetValue(json)) JsonResult.Write(cli.Out, result);
            return result["ok"]!.GetValue<bool>() ? 0 : 1;
        });
        return cmd;
    }

    private sealed record Settings(long Samples, FeatureSchema Schema, TimeSpan Interval, int Shards, double ScoreRate, int Rows, long CheckpointEvery, bool Feedback)
    {
        public void Validate()
        {
            if (Samples < 10_000) throw new ArgumentException($"--samples: {Samples}; give at least 10000");
            if (Schema.Source.Format != "synthetic") throw new ArgumentException($"--schema: {Schema.Name} reads '{Schema.Source.Format}'; the soak needs a synthetic source (an endless stream)");
            if (Interval <= TimeSpan.Zero) throw new ArgumentException("--interval: must be positive");
            if (Shards < 1) throw new ArgumentException("--shards: must be at least 1");
            if (ScoreRate is < 0 or > 1000) throw new ArgumentException($"--score-rate: {ScoreRate}; give 0 to 1000 calls a second");
            if (Rows is < 1 or > ScoreRequest.MaxRows) throw new ArgumentException($"--rows: {Rows}; give 1 to {ScoreRequest.MaxRows}");
            if (CheckpointEvery < 0) throw new ArgumentException("--checkpoint-every: must be 0 (none) or positive");
            if (Feedback && ScoreRate <= 0) throw new ArgumentException("--feedback: the loop's labels are those of scored rows; give a --score-rate above 0");
        }
    }

    private sealed record Reading(long Samples, double Seconds, double RssMb, double GcHeapMb, double GcCommittedMb);

    private static async Task<JsonObject> RunAsync(CliContext cli, Settings settings, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), "freshet-soak-" + Guid.NewGuid().ToString("N"));
        var clusterId = "soak-" + Guid.NewGuid().ToString("N")[..8];
        var hosts = new List<IHost>();
        var silos = new List<SiloProcess>();
        try
        {
            await cli.Error.WriteLineAsync($"soak: starting a silo process (training and serving, local profile) for {settings.Samples:N0} samples of {settings.Schema.Name}");
            var silo = SiloProcess.Start("soak", clusterId, folder, SiloRoles.Both, null, noAdmin: false, Path.Combine(folder, "state"));
            silos.Add(silo);
            var client = await LoadDrill.ConnectAsync(hosts, silos, o => o.GatewayPorts = [silo.GatewayPort], clusterId, ct);
            var spec = new DeploymentSpec
            {
                Model = "soak", SchemaJson = settings.Schema.Json, Shards = settings.Shards, PublishInterval = settings.Interval, Clock = ClockKind.Wall,
                // Far from now: the soak's checkpoints are the ones it asks for.
                DailyCheckpointAt = DeploymentSpec.DailyCheckpointFarFrom(DateTime.UtcNow),
                // Labels come as soon as a row is scored; what is never clicked settles at the window's end.
                Feedback = settings.Feedback ? new FeedbackSpec { Joiners = 2, ClickWindow = TimeSpan.FromMinutes(2), AttributionWindow = TimeSpan.FromMinutes(10) } : null,
            };
            await client.StartAsync(spec);
            await LoadDrill.WaitAsync(async () => (await client.GetStatusAsync(spec.Model)).Replicas.Any(r => r.Weights is not null), silos, "serving holds the first checkpoint", TimeSpan.FromMinutes(2), ct);

            var clock = Stopwatch.StartNew();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            long published = 0;
            var publisher = new SamplePublisher(client.Cluster, spec.JobOf(DeploymentJob.Main), 1) { Progress = n => Interlocked.Exchange(ref published, n) };
            var reader = SampleReader.Open(settings.Schema, SampleReader.SyntheticData);
            var producing = Task.Run(() => publisher.PublishAsync(reader.Read(settings.Samples, stop.Token), end: false, cancellationToken: stop.Token), stop.Token);
            // Scoring stops when producing does: the loop's samples made by then are waited for like those produced.
            using var scoringStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var scoring = ScoreAsync(client, settings, spec.Model, scoringStop.Token);

            var readings = new List<Reading>();
            var checkpoints = 0;
            var nextCheckpoint = settings.CheckpointEvery > 0 ? settings.CheckpointEvery : long.MaxValue;
            var lastReport = TimeSpan.Zero;
            long trained = 0;
            long made = 0;
            var drained = Stopwatch.StartNew();
            while (true)
            {
                silo.ThrowIfExited();
                if (producing.IsFaulted) await producing;
                var status = await client.GetStatusAsync(spec.Model);
                trained = status.Deployment.Main?.Trainers.Sum(t => t.SamplesTrained) ?? 0;
                // The feedback loop's samples (its joiners publish them to the same job) are trained with the produced ones.
                made = status.Feedback?.Joiners.Sum(x => x.CtrSamples + x.CvrSamples) ?? 0;
                if (status.Silos.FirstOrDefault()?.Roles is { } roles)
                {
                    readings.Add(new Reading(trained, clock.Elapsed.TotalSeconds, roles.WorkingSetBytes / 1048576.0, roles.GcHeapBytes / 1048576.0, roles.GcCommittedBytes / 1048576.0));
                }
                if (trained >= nextCheckpoint)
                {
                    await client.CheckpointAsync(spec.Model);
                    checkpoints++;
                    nextCheckpoint += settings.CheckpointEvery;
                }
                if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(30))
                {
                    lastReport = clock.Elapsed;
                    var r = readings.LastOrDefault();
                    await cli.Error.WriteLineAsync($"soak: {clock.Elapsed:hh\\:mm\\:ss} trained {trained:N0} of {Interlocked.Read(ref published):N0} published; silo RSS {r?.RssMb:F0} MB, managed heap {r?.GcHeapMb:F0} MB");
                }
                if (!producing.IsCompleted) drained.Restart();
                else if (!scoringStop.IsCancellationRequested) await scoringStop.CancelAsync();
                // Done when everything produced (and made by the loop) is trained; a trainer that stops taking samples ends the run after 2 minutes.
                if (producing.IsCompleted && (trained >= Interlocked.Read(ref published) + made || drained.Elapsed > TimeSpan.FromMinutes(2))) break;
                await Task.Delay(1000, ct);
            }
            var producedTotal = await producing;
            await stop.CancelAsync();
            await scoringStop.CancelAsync();
            var (calls, scoreFailures, scoreError, labelsReported) = await scoring;

            var end = await client.GetStatusAsync(spec.Model);
            var roleInfo = end.Silos.FirstOrDefault()?.Roles;
            var trainers = end.Deployment.Main?.Trainers ?? [];
            var shards = await Task.WhenAll(client.Cluster.Shards(spec.Model, settings.Shards).Select(s => s.GetStatusAsync()));
            var tables = new JsonObject();
            var layout = FeatureLayout.From(settings.Schema);
            // Each table's cap, and each rate's (a rate is bounded as its id field's table is).
            var caps = layout.Tables.Select(t => (t.Name, t.MaxRows)).Concat(layout.RateFields.Select(r => (r.Field.Name, r.MaxRows)))
                .ToDictionary(c => c.Item1, c => c.Item2, StringComparer.Ordinal);
            var cappedOver = new List<string>();
            foreach (var name in shards.SelectMany(s => s.Rows.Keys).Distinct().Order(StringComparer.Ordinal))
            {
                var held = shards.Sum(s => s.Rows.GetValueOrDefault(name));
                var cap = caps.GetValueOrDefault(name);
                if (held > cap) cappedOver.Add(name);
                tables[name] = new JsonObject
                {
                    ["rows"] = held,
                    ["evicted"] = shards.Sum(s => s.Evicted.GetValueOrDefault(name)),
                    ["maxRows"] = cap,
                };
            }
            var queued = trainers.Sum(t => t.SamplesQueued);
            var capacity = trainers.Sum(t => t.QueueCapacity);
            var shed = trainers.Sum(t => t.SamplesShed);
            var evaluationHeld = trainers.Sum(t => t.EvaluationHeld);
            var lost = Math.Max(0, producedTotal + made - trained);
            var warmUp = Math.Min(WarmUpSamples, settings.Samples / 2);
            var settled = readings.Where(r => r.Samples >= warmUp).ToList();
            var rssSlope = Slope(settled, r => r.RssMb);
            var heapSlope = Slope(settled, r => r.GcHeapMb);
            // What the collector holds from the system, and the rest of the RSS (native: the runtime, TorchSharp, the C library's heap).
            var committedSlope = Slope(settled, r => r.GcCommittedMb);
            var nativeSlope = Slope(settled, r => r.RssMb - r.GcCommittedMb);
            // The slope says something only well past the warm-up: a short run (a test) is judged on what it lost and on its caps.
            var slopeJudged = settings.Samples >= 2 * WarmUpSamples;
            // The feedback loop: what its joiners hold waiting for labels and each live sequence's keys, against their caps.
            JsonObject? loop = null;
            if (end.Feedback is { } fed)
            {
                var j = fed.Joiners;
                var pendingCap = (long)spec.Feedback!.MaxPendingPerJoiner * spec.Feedback.Joiners;
                var pending = j.Sum(x => (long)x.PendingImpressions + x.PendingClicks);
                if (pending > 2 * pendingCap) cappedOver.Add("feedback.pending");
                foreach (var q in fed.Sequences.Where(q => q.Keys > q.MaxKeys)) cappedOver.Add($"sequence {q.Field}");
                loop = FeedbackJson.Of(fed);
                loop["labelsReported"] = labelsReported;
                loop["pendingCap"] = 2 * pendingCap;
                loop["samples"] = made; // as the run was judged: all of them trained unless counted lost
            }
            var ok = lost == 0 && shed == 0 && scoreFailures == 0 && cappedOver.Count == 0 && (!slopeJudged || rssSlope is <= 1.0);
            await cli.Out.WriteLineAsync($"soak: {trained:N0} of {producedTotal:N0} samples trained in {clock.Elapsed.TotalMinutes:F1} min ({checkpoints} checkpoints asked, {calls:N0} scoring calls, {scoreFailures} failed); "
                + $"silo RSS {readings.FirstOrDefault()?.RssMb:F0} -> {readings.LastOrDefault()?.RssMb:F0} MB (max {readings.Select(r => r.RssMb).DefaultIfEmpty().Max():F0}), "
                + $"slope after {warmUp:N0} samples {rssSlope:F2} MB per million (managed heap {heapSlope:F2}, collector's committed memory {committedSlope:F2}, native {nativeSlope:F2}); "
                + $"{roleInfo?.HeapCompactions ?? 0} heap compactions after checkpoints, the longest {roleInfo?.LongestHeapCompactionMs ?? 0:F0} ms");
            foreach (var (name, node) in tables) await cli.Out.WriteLineAsync($"  table {name}: {node!["rows"]} rows (cap {node["maxRows"]?.ToString() ?? "none"}), {node["evicted"]} evicted");
            if (loop is not null)
            {
                await cli.Out.WriteLineAsync($"  feedback: {labelsReported:N0} labels reported, {loop["clicks"]} clicks and {loop["conversions"]} conversions joined, {loop["pending"]} pending (cap {loop["pendingCap"]}), {loop["samples"]} samples made");
                foreach (var (name, node) in loop["sequences"]!.AsObject()) await cli.Out.WriteLineAsync($"  sequence {name}: {node!["keys"]} keys (cap {node["maxKeys"]}), {node["evicted"]} evicted");
            }
            await cli.Out.WriteLineAsync(ok ? "soak: memory flat and nothing lost"
                : $"soak: NOT MET: lost {lost}, shed {shed}, scoring failures {scoreFailures}{(scoreError is null ? "" : $" ({scoreError})")}, tables over their cap [{string.Join(", ", cappedOver)}], RSS slope {rssSlope:F2} MB per million (at most 1)");
            return new JsonObject
            {
                ["command"] = "drill soak",
                ["schema"] = settings.Schema.Name,
                ["samples"] = trained,
                ["produced"] = producedTotal,
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["samplesPerSecond"] = JsonResult.Metric(trained / Math.Max(1e-9, clock.Elapsed.TotalSeconds), 0),
                ["publishIntervalMs"] = settings.Interval.TotalMilliseconds,
                ["checkpoints"] = checkpoints,
                ["scoringCalls"] = calls,
                ["scoringFailures"] = scoreFailures,
                ["scoringError"] = scoreError,
                ["readingSamples"] = new JsonArray([.. readings.Select(r => (JsonNode?)r.Samples)]),
                ["rssMb"] = new JsonArray([.. readings.Select(r => (JsonNode?)Math.Round(r.RssMb, 1))]),
                ["gcHeapMb"] = new JsonArray([.. readings.Select(r => (JsonNode?)Math.Round(r.GcHeapMb, 1))]),
                ["gcCommittedMb"] = new JsonArray([.. readings.Select(r => (JsonNode?)Math.Round(r.GcCommittedMb, 1))]),
                ["warmUpSamples"] = warmUp,
                ["rssSlopeMbPerMillion"] = JsonResult.Metric(rssSlope, 3),
                ["slopeJudged"] = slopeJudged,
                ["gcHeapSlopeMbPerMillion"] = JsonResult.Metric(heapSlope, 3),
                ["gcCommittedSlopeMbPerMillion"] = JsonResult.Metric(committedSlope, 3),
                ["nativeSlopeMbPerMillion"] = JsonResult.Metric(nativeSlope, 3),
                ["tables"] = tables,
                ["tablesOverCap"] = new JsonArray([.. cappedOver.Select(n => (JsonNode?)n)]),
                ["feedback"] = loop,
                ["samplesQueued"] = queued,
                ["queueCapacity"] = capacity,
                ["samplesShed"] = shed,
                ["streamErrors"] = trainers.Sum(t => t.StreamErrors),
                // What trainers received and did not train, by reason (each is part of "lost" when it is not 0).
                ["samplesReceived"] = trainers.Sum(t => t.SamplesReceived),
                ["samplesRejected"] = trainers.Sum(t => t.SamplesRejected),
                ["samplesTimeRejected"] = trainers.Sum(t => t.SamplesTimeRejected),
                ["batchesUndecodable"] = trainers.Sum(t => t.BatchesUndecodable),
                ["samplesSkipped"] = trainers.Sum(t => t.SamplesSkipped),
                ["samplesRepeated"] = trainers.Sum(t => t.SamplesRepeated),
                ["evaluationHeld"] = evaluationHeld,
                ["baselineKeys"] = trainers.Sum(t => t.BaselineKeys),
                ["baselineEvicted"] = trainers.Sum(t => t.BaselineEvicted),
                ["heapCompactions"] = roleInfo?.HeapCompactions,
                ["longestHeapCompactionMs"] = roleInfo is null ? null : Math.Round(roleInfo.LongestHeapCompactionMs, 1),
                ["nativeTrimmedMb"] = roleInfo is null ? null : Math.Round(roleInfo.NativeBytesTrimmed / 1048576.0, 1),
                ["lost"] = lost,
                ["ok"] = ok,
            };
        }
        finally
        {
            await LoadDrill.StopAsync(hosts, silos);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Scores a call of synthetic rows every 1/rate seconds until stopped: calls made, failed, the first failure, and labels
    /// reported. Without the feedback loop the calls cycle through 5,000 rows; with it they read the stream on (new users
    /// and items, as a shop's traffic does) and report each row's click and conversion as soon as it is answered.
    /// </summary>
    private static Task<(long Calls, long Failures, string? Error, long Labels)> ScoreAsync(FreshetClient client, Settings settings, string model, CancellationToken ct) => Task.Run(async () =>
    {
        if (settings.ScoreRate <= 0) return (0L, 0L, (string?)null, 0L);
        var requests = settings.Feedback ? [] : ServeBench.RequestRows(settings.Schema, 5_000);
        using var stream = settings.Feedback ? ServeBench.LabelledRows(settings.Schema).GetEnumerator() : null;
        var pause = TimeSpan.FromSeconds(1 / settings.ScoreRate);
        long calls = 0, failures = 0, labels = 0;
        string? error = null;
        var at = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (stream is null)
                {
                    await client.ScoreAsync(model, [.. requests.Skip(at).Take(settings.Rows)]);
                }
                else
                {
                    var batch = new List<ServeBench.LabelledRow>(settings.Rows);
                    while (batch.Count < settings.Rows && stream.MoveNext()) batch.Add(stream.Current);
                    var answers = await client.ScoreAsync(model, [.. batch.Select(r => r.Row)]);
                    var now = DateTime.UtcNow;
                    var report = new List<FeedbackLabel>();
                    for (var i = 0; i < answers.Count; i++)
                    {
                        if (batch[i].Click) report.Add(new FeedbackLabel { Prediction = answers[i].Id, Event = FeedbackEvent.Click, Time = now });
                        if (batch[i].Click && batch[i].Conversion) report.Add(new FeedbackLabel { Prediction = answers[i].Id, Event = FeedbackEvent.Conversion, Time = now });
                    }
                    if (report.Count > 0) await client.ReportAsync(report);
                    labels += report.Count;
                }
                calls++;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failures++;
                error ??= LoadDrill.Describe(e);
            }
            at = (at + settings.Rows) % Math.Max(1, requests.Count - settings.Rows);
            try
            {
                await Task.Delay(pause, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return (calls, failures, error, labels);
    }, CancellationToken.None);

    /// <summary>Least-squares slope of a reading against the samples trained, per million samples; null with fewer than 3 readings.</summary>
    private static double? Slope(IReadOnlyList<Reading> readings, Func<Reading, double> of)
    {
        if (readings.Count < 3) return null;
        var mx = readings.Average(r => r.Samples / 1e6);
        var my = readings.Average(of);
        double sxy = 0, sxx = 0;
        foreach (var r in readings)
        {
            var dx = r.Samples / 1e6 - mx;
            sxy += dx * (of(r) - my);
            sxx += dx * dx;
        }
        return sxx == 0 ? null : sxy / sxx;
    }
}
