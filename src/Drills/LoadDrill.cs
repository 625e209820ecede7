using Freshet.Grains.Placement;
using Freshet.Hosting;
using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Freshet.Tools.Cluster;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Experiments;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Serving;
using Microsoft.Extensions.Hosting;

namespace Freshet.Drills;

/// <summary>
/// <c>freshet drill load</c>: a training silo and two serving silos, each a process of its own (local profile); the
/// model trains on a paced stream and publishes a delta every interval. Several SDK clients, each its own Orleans client
/// on both serving gateways, score back to back in two phases: a steady one with a full checkpoint swapped in halfway,
/// and one in which the busier serving silo's process is killed. Every call is timed; every failure the callers saw, and
/// every retry the client's policy absorbed, is counted with its reason and when it happened.
/// </summary>
public static partial class LoadDrill
{
    private sealed record Call(double AtSeconds, double Ms, long Checkpoint, long Delta, string? Error);

    private sealed record Retry(double AtSeconds, string Error, int Attempt);

    private sealed class Phase(string name)
    {
        public string Name { get; } = name;
        public Stopwatch Clock { get; } = new();
        public ConcurrentQueue<Call> Calls { get; } = new();
        public ConcurrentQueue<Retry> Retries { get; } = new();
        public long Failed { get; set; }
        public long Unexplained { get; set; }
    }

    public static Command Build(CliContext cli)
    {
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON (requests are synthetic rows: the schema must read the synthetic stream)", DefaultValueFactory = _ => "schemas/synthetic.json" };
        var clients = new Option<int>("--clients") { Description = "SDK clients scoring at once (each its own Orleans client, one call at a time)", DefaultValueFactory = _ => 8 };
        var seconds = new Option<double>("--seconds") { Description = "Seconds each phase scores for", DefaultValueFactory = _ => 60 };
        var killAt = new Option<double?>("--kill-at") { Description = "Second of the second phase at which a serving silo is killed (default: halfway)" };
        var rows = new Option<int>("--rows") { Description = "Rows a scoring call", DefaultValueFactory = _ => 100 };
        var interval = new Option<string>("--interval") { Description = "Publish interval", DefaultValueFactory = _ => "1s" };
        var feedRate = new Option<int>("--feed-rate") { Description = "Samples per second streamed to the trainer", DefaultValueFactory = _ => 2000 };
        var shards = new Option<int>("--shards") { Description = "Embedding shard grains", DefaultValueFactory = _ => 4 };
        var profile = new Option<string>("--profile") { Description = "local: memory streams, grain state in files; azurite: membership, grain state, queue streams and checkpoints in Azurite, started by the drill (from .tools/azurite or FRESHET_AZURITE)", DefaultValueFactory = _ => "local" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("load", "SDK clients score against two serving silo processes while deltas publish and a checkpoint swaps; then one serving silo is killed mid-phase")
        {
            schema, clients, seconds, killAt, rows, interval, feedRate, shards, profile, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var settings = new Settings(
                SchemaLoader.Load(p.GetValue(schema)!), p.GetValue(clients), p.GetValue(seconds), p.GetValue(killAt) ?? p.GetValue(seconds) / 2,
                p.GetValue(rows), Durations.Parse(p.GetValue(interval)!, "--interval"), p.GetValue(feedRate), p.GetValue(shards), p.GetValue(profile)!);
            settings.Validate();
            var result = await RunAsync(cli, settings, ct);
            if (p.GetValue(json)) JsonResult.Write(cli.Out, result);
            return 0;
        });
        return cmd;
    }

    private sealed record Settings(FeatureSchema Schema, int Clients, double Seconds, double KillAt, int Rows, TimeSpan Interval, int FeedRate, int Shards, string Profile)
    {
        /// <summary>Whether the drill runs on the azurite profile (<see cref="Validate"/> has refused anything but local and azurite).</summary>
        public bool Azurite => Profile == FreshetProfile.Azurite.Name();

        public void Validate()
        {
            FreshetProfiles.Parse(Profile, "--profile", FreshetProfile.Local, FreshetProfile.Azurite);
            if (Clients is < 1 or > 64) throw new ArgumentException($"--clients: {Clients}; give 1 to 64");
            if (Seconds < 4) throw new ArgumentException($"--seconds: {Seconds}; a phase needs at least 4 seconds (a checkpoint swap and a kill happen inside it)");
            if (KillAt <= 0 || KillAt >= Seconds) throw new ArgumentException($"--kill-at: {KillAt}; give a second inside the phase (0 to {Seconds}, exclusive)");
            if (Rows is < 1 or > ScoreRequest.MaxRows) throw new ArgumentException($"--rows: {Rows}; give 1 to {ScoreRequest.MaxRows}");
            if (Interval <= TimeSpan.Zero) throw new ArgumentException("--interval: must be positive");
            if (FeedRate < 1) throw new ArgumentException("--feed-rate: must be at least 1 sample per second");
            if (Shards < 1) throw new ArgumentException("--shards: must be at least 1");
        }
    }

    private static async Task<JsonObject> RunAsync(CliContext cli, Settings settings, CancellationToken ct)
    {
        var requests = ServeBench.RequestRows(settings.Schema, 5_000);
        var folder = Path.Combine(Path.GetTempPath(), "freshet-drill-" + Guid.NewGuid().ToString("N"));
        var clusterId = "drill-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<SiloProcess>();
        var hosts = new List<IHost>();
        AzuriteProcess? azurite = null;
        try
        {
            if (settings.Azurite)
            {
                await cli.Error.WriteLineAsync("drill: starting Azurite (in memory) for the azurite profile");
                azurite = await AzuriteProcess.StartAsync(ct);
            }
            var storage = azurite?.ConnectionString;
            await cli.Error.WriteLineAsync($"drill: starting a training silo and two serving silos, each a process ({settings.Profile} profile)");
            // Grain state (jobs, stream subscriptions) in files shared by the silos (local profile), or in blobs (azurite): a
            // deployed profile's storage outlives a silo, where the local profile's in-memory storage would die in part with the killed one.
            var state = Path.Combine(folder, "state");
            var training = SiloProcess.Start("training", clusterId, folder, SiloRoles.TrainingOnly, null, noAdmin: false, state, storage);
            silos.Add(training);
            silos.Add(SiloProcess.Start("serving-1", clusterId, folder, SiloRoles.ServingOnly, training.SiloPort, noAdmin: true, state, storage));
            silos.Add(SiloProcess.Start("serving-2", clusterId, folder, SiloRoles.ServingOnly, training.SiloPort, noAdmin: true, state, storage));
            var serving = silos.Skip(1).ToList();

            // Admin calls and the producer go through the training silo's gateway; scoring only through the serving ones. On
            // both profiles the clients are given their gateways (not the azurite membership table's list): a long admin call
            // (a checkpoint) in flight through a serving silo's gateway when it is killed would wait out the 5-minute response
            // timeout. The azurite profile's clients send samples on its queue streams.
            Action<FreshetClientOptions> Gateways(params int[] ports) => o =>
            {
                o.GatewayPorts = ports;
                if (storage is not null) (o.Profile, o.StorageConnectionString) = (FreshetProfile.Azurite.Name(), storage);
            };
            var admin = await ConnectAsync(hosts, silos, Gateways(training.GatewayPort), clusterId, ct);
            await WaitAsync(async () => (await admin.GetSilosAsync()).Count == 3, silos, "the three silos are active", TimeSpan.FromMinutes(2), ct);

            var spec = new DeploymentSpec
            {
                Model = "drill", SchemaJson = settings.Schema.Json, Shards = settings.Shards, PublishInterval = settings.Interval, Clock = ClockKind.Wall,
                // Far from now: the drill's one checkpoint swap is the one it asks for.
                DailyCheckpointAt = DeploymentSpec.DailyCheckpointFarFrom(DateTime.UtcNow),
            };
            await admin.StartAsync(spec);
            using var feed = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var publisher = new SamplePublisher(admin.Cluster, spec.JobOf(DeploymentJob.Main), 1);
            var reader = SampleReader.Open(settings.Schema, SampleReader.SyntheticData);
            var feeding = Task.Run(() => publisher.PublishAsync(ServeBench.Paced(reader.Read(null, feed.Token), settings.FeedRate, feed.Token), end: false, cancellationToken: feed.Token), feed.Token);
            await cli.Error.WriteLineAsync($"drill: training at {settings.FeedRate:N0} samples/s, publishing every {Durations.Format(settings.Interval)}; waiting for both serving replicas");
            ModelStatus status = null!;
            await WaitAsync(async () =>
            {
                if (feeding.IsFaulted) await feeding;
                status = await admin.GetStatusAsync(spec.Model);
                return status.Replicas.Count(r => r.Weights is not null && r.Applied >= 3) == 2;
            }, silos, "both serving replicas hold the checkpoint and 3 deltas", TimeSpan.FromMinutes(3), ct);

            // The scoring clients: each an application's own client, given both serving gateways.
            Phase? current = null;
            var scorers = new List<FreshetClient>();
            for (var c = 0; c < settings.Clients; c++)
            {
                var client = await ConnectAsync(hosts, silos, Gateways([.. serving.Select(s => s.GatewayPort)]), clusterId, ct);
                client.Retrying += r =>
                {
                    if (current is { } phase) phase.Retries.Enqueue(new Retry(phase.Clock.Elapsed.TotalSeconds, Describe(r.Error), r.Attempt));
                };
                for (var i = 0; i < 3; i++) await client.ScoreAsync(spec.Model, [.. requests.Skip(i * settings.Rows).Take(settings.Rows)]); // warm-up, not counted
                scorers.Add(client);
            }

            var phases = new JsonArray();
            var steady = new Phase("steady");
            current = steady;
            await cli.Error.WriteLineAsync($"drill: phase 1, {settings.Clients} clients x {settings.Rows} rows a call for {settings.Seconds:F0} s, a checkpoint swap at {settings.Seconds / 2:F0} s");
            phases.Add(await RunPhaseAsync(steady, settings, admin, scorers, requests, spec.Model, serving, swapAt: settings.Seconds / 2, killAt: null, cli.Error.WriteLine, ct));
            var kill = new Phase("kill");
            current = kill;
            var swapAt = Math.Min(settings.Seconds / 4, settings.KillAt / 2);
            await cli.Error.WriteLineAsync($"drill: phase 2, the same with a checkpoint swap at {swapAt:F0} s and the busier serving silo killed at {settings.KillAt:F0} s");
            phases.Add(await RunPhaseAsync(kill, settings, admin, scorers, requests, spec.Model, serving, swapAt, settings.KillAt, cli.Error.WriteLine, ct));
            current = null;

            await feed.CancelAsync();
            string? feedError = null;
            try
            {
                await feeding;
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                feedError = Describe(e); // reported, not fatal: the drill is about serving
            }
            // Until the cluster declares the killed silo dead, a call to a grain that lived there fails: the drill's own
            // admin calls wait that out, as an operator would.
            var end = await AdminAsync(() => admin.GetStatusAsync(spec.Model));
            var trained = Trained(end);
            await AdminAsync(() => admin.StopAsync(spec.Model));

            // With no fault in the steady phase, every retry or failure there is unexplained; in the kill phase, those before the kill.
            var unexplained = steady.Unexplained + kill.Unexplained;
            var failed = steady.Failed + kill.Failed;
            // Training goes on throughout: its counters grow from phase to phase (a silent producer or a restarted trainer shows here).
            var counters = phases.Select(n => n!["samplesTrainedCounter"]!.GetValue<long>()).ToList();
            var trainingWentOn = counters[0] > 0 && counters[1] > counters[0];
            var ok = failed == 0 && unexplained == 0 && trainingWentOn;
            foreach (var n in phases) await cli.Out.WriteLineAsync(Summary(n!.AsObject()));
            await cli.Out.WriteLineAsync($"samples trained {trained:N0}{(feedError is null ? "" : $"; the producer stopped: {feedError}")}; "
                + (ok ? "no call failed, every retry came after the kill, and training went on"
                    : $"NOT MET: {failed} calls failed, {unexplained} failures or retries not explained by the kill{(trainingWentOn ? "" : $", training did not go on (trainers' counters {counters[0]:N0} then {counters[1]:N0})")}"));
            return new JsonObject
            {
                ["command"] = "drill load",
                ["profile"] = settings.Profile,
                ["clients"] = settings.Clients,
                ["rowsPerCall"] = settings.Rows,
                ["secondsPerPhase"] = settings.Seconds,
                ["publishIntervalMs"] = settings.Interval.TotalMilliseconds,
                ["feedSamplesPerSecond"] = settings.FeedRate,
                ["retryLimitSeconds"] = scorers[0].ScoringRetryLimit.TotalSeconds,
                ["phases"] = phases,
                ["samplesTrained"] = trained,
                ["feedError"] = feedError,
                ["unexplained"] = unexplained,
                ["trainingWentOn"] = trainingWentOn,
                ["ok"] = ok,
            };
        }
        finally
        {
            await StopAsync(hosts, silos);
            azurite?.Dispose();
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<JsonObject> RunPhaseAsync(
        Phase phase, Settings settings, FreshetClient admin, IReadOnlyList<FreshetClient> scorers, IReadOnlyList<ScoreRow> requests, string model,
        IReadOnlyList<SiloProcess> serving, double swapAt, double? killAt, Action<string> progress, CancellationToken ct)
    {
        var before = await admin.GetStatusAsync(model);
        var duration = TimeSpan.FromSeconds(settings.Seconds);
        Task<JsonObject>? swapping = null;
        var swapServed = long.MaxValue; // clock ticks at which the swap was served by every live serving silo
        // The callers score for the phase's seconds and, where storage made the swap slow (azurite), on until it has
        // been served and has answered them for a second, so each phase shows callers answered by the new checkpoint.
        bool Scoring()
        {
            var now = phase.Clock.Elapsed;
            if (now < duration) return true;
            if (now > duration + TimeSpan.FromMinutes(2)) return false;
            var served = Volatile.Read(ref swapServed);
            return swapping is not { IsCompleted: true } || served == long.MaxValue || now.Ticks < served + TimeSpan.TicksPerSecond;
        }
        phase.Clock.Start();
        var workers = scorers.Select((client, c) => Task.Run(async () =>
        {
            var next = c * 997;
            var batch = new ScoreRow[settings.Rows];
            while (Scoring() && !ct.IsCancellationRequested)
            {
                for (var i = 0; i < batch.Length; i++) batch[i] = requests[(next + i) % requests.Count];
                next += batch.Length;
                var at = phase.Clock.Elapsed.TotalSeconds;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var answers = await client.ScoreAsync(model, batch);
                    phase.Calls.Enqueue(new Call(at, Stopwatch.GetElapsedTime(started).TotalMilliseconds, answers[0].Weights.Checkpoint, answers[0].Weights.Delta, null));
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    phase.Calls.Enqueue(new Call(at, Stopwatch.GetElapsedTime(started).TotalMilliseconds, -1, -1, Describe(e)));
                }
            }
        }, ct)).ToArray();

        SiloProcess? victim = null;
        double? killedAt = null;
        var killing = killAt is { } k ? Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(k), ct);
            // The serving silo that answered more of this phase so far: its loss moves the most callers.
            var now = await admin.GetStatusAsync(model);
            victim = serving.OrderByDescending(s => Scored(now, s) - Scored(before, s)).First();
            killedAt = phase.Clock.Elapsed.TotalSeconds;
            victim.Kill();
            progress($"drill: killed {victim.Name} at {killedAt:F1} s");
        }, ct) : Task.CompletedTask;
        swapping = SwapAsync(phase, admin, model, serving, swapAt, () => victim, ct);
        _ = swapping.ContinueWith(_ => Volatile.Write(ref swapServed, phase.Clock.Elapsed.Ticks), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        await Task.WhenAll(workers);
        var elapsed = phase.Clock.Elapsed.TotalSeconds;
        progress($"drill: phase {phase.Name}: the callers stopped at {elapsed:F1} s");
        await killing;
        var swap = await swapping;
        var after = await AdminAsync(() => admin.GetStatusAsync(model));

        var calls = phase.Calls.ToList();
        var retries = phase.Retries.ToList();
        var ok = calls.Where(c => c.Error is null).ToList();
        var latencies = ok.Select(c => c.Ms).Order().ToArray();
        // A retry or failure is explained when it came after the kill: the silo and its gateway went away.
        bool Explained(double at) => killedAt is { } t && at >= t;
        phase.Failed = calls.Count - ok.Count;
        phase.Unexplained = calls.Count(c => c.Error is not null && !Explained(c.AtSeconds)) + retries.Count(r => !Explained(r.AtSeconds));
        var node = new JsonObject
        {
            ["name"] = phase.Name,
            ["seconds"] = Math.Round(elapsed, 1),
            ["calls"] = calls.Count,
            ["rows"] = (long)ok.Count * settings.Rows,
            ["rowsPerSecond"] = Math.Round(ok.Count * settings.Rows / elapsed, 1),
            ["failed"] = phase.Failed,
            ["failures"] = Reasons(calls.Where(c => c.Error is not null).Select(c => (c.AtSeconds, c.Error!, Explained(c.AtSeconds)))),
            ["retried"] = retries.Count,
            ["callsRetried"] = retries.Count(r => r.Attempt == 1),
            ["retries"] = Reasons(retries.Select(r => (r.AtSeconds, r.Error, Explained(r.AtSeconds)))),
            ["unexplained"] = phase.Unexplained,
            ["p50Ms"] = JsonResult.Metric(ServeBench.Percentile(latencies, 0.5), 2),
            ["p99Ms"] = JsonResult.Metric(ServeBench.Percentile(latencies, 0.99), 2),
            ["p999Ms"] = JsonResult.Metric(ServeBench.Percentile(latencies, 0.999), 2),
            ["maxMs"] = JsonResult.Metric(latencies.Length == 0 ? null : latencies[^1], 2),
            // The trainers' own counters at the phase's end (they restart with a trainer's activation, so not a difference).
            ["samplesTrainedCounter"] = Trained(after),
            ["versionsAnswered"] = ok.Select(c => (c.Checkpoint, c.Delta)).Distinct().Count(),
            ["checkpointsAnswered"] = new JsonArray([.. ok.Select(c => c.Checkpoint).Distinct().Order().Select(c => (JsonNode?)c)]),
            ["checkpointSwap"] = swap,
            ["silos"] = new JsonArray([.. serving.Select(s => (JsonNode?)SiloNode(s, before, after, s == victim))]),
            ["timeline"] = Timeline(calls, retries, elapsed),
        };
        if (killedAt is { } at)
        {
            var late = calls.Where(c => c.AtSeconds >= at).ToList();
            var lateMs = late.Where(c => c.Error is null).Select(c => c.Ms).Order().ToArray();
            // A call started before the kill can still be waiting on the dead silo when it dies: the calls in flight count too.
            var inFlight = calls.Where(c => c.AtSeconds < at && c.AtSeconds + c.Ms / 1000 >= at).ToList();
            var lastRetry = retries.Where(r => r.AtSeconds >= at).Select(r => r.AtSeconds).DefaultIfEmpty(at).Max();
            node["kill"] = new JsonObject
            {
                ["silo"] = victim!.Name,
                ["atSeconds"] = Math.Round(at, 2),
                ["callsInFlight"] = inFlight.Count,
                ["inFlightMaxMs"] = JsonResult.Metric(inFlight.Count == 0 ? null : inFlight.Max(c => c.Ms), 1),
                ["callsAfter"] = late.Count,
                ["p99MsAfter"] = JsonResult.Metric(ServeBench.Percentile(lateMs, 0.99), 2),
                ["maxMsAfter"] = JsonResult.Metric(lateMs.Length == 0 ? null : lateMs[^1], 1),
                ["retriesEndedSecondsAfter"] = Math.Round(lastRetry - at, 2),
            };
        }
        return node;
    }

    /// <summary>After <paramref name="atSeconds"/>, a full checkpoint, then how long until every live serving replica answers from it.</summary>
    private static async Task<JsonObject> SwapAsync(Phase phase, FreshetClient admin, string model, IReadOnlyList<SiloProcess> serving, double atSeconds, Func<SiloProcess?> killed, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(atSeconds), ct);
        var from = (await admin.GetStatusAsync(model)).Replicas.Max(r => r.Weights?.Checkpoint ?? 0);
        var requested = phase.Clock.Elapsed.TotalSeconds;
        await admin.CheckpointAsync(model);
        var written = phase.Clock.Elapsed.TotalSeconds;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await admin.GetStatusAsync(model);
            var live = status.Replicas.Where(r => serving.Any(s => s.Is(r.Silo) && s != killed())).ToList();
            if (live.Count > 0 && live.All(r => r.Weights?.Checkpoint > from))
            {
                return new JsonObject
                {
                    ["fromCheckpoint"] = from,
                    ["toCheckpoint"] = live.Max(r => r.Weights!.Value.Checkpoint),
                    ["requestedAtSeconds"] = Math.Round(requested, 2),
                    ["writtenSeconds"] = Math.Round(written - requested, 2),
                    ["servedBySeconds"] = Math.Round(phase.Clock.Elapsed.TotalSeconds - requested, 2),
                };
            }
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"drill: the serving silos did not swap from checkpoint {from} within 2 minutes of writing the next; replicas: "
                    + string.Join("; ", status.Silos.Select(s => $"{s.Silo} {s.Replica?.Weights} target {s.Replica?.TargetCheckpoint} {s.Replica?.Error ?? s.Error}"))
                    + $"; serving version {status.Deployment.ServingCheckpoint}, job checkpoint error {status.Deployment.Main?.LastCheckpointError}"
                    + string.Concat(serving.Where(s => s != killed()).Select(s => $"\n{s.Name} silo's last output:\n{s.Tail}")));
            }
            await Task.Delay(50, ct);
        }
    }

    [GeneratedRegex(@"S?\d+\.\d+\.\d+\.\d+(:\d+)*|\b[0-9a-f]{8,}\b|\d+")]
    private static partial Regex Numbers();

}
