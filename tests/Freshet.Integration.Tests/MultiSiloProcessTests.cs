using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Freshet.Integration.Tests;

/// <summary>
/// A real cluster of silo processes on loopback with the azurite profile (one training, two serving),
/// driven and scored by separate command-line processes; a serving silo is killed and replaced.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MultiSiloProcessTests(Azurite azurite, ITestOutputHelper output) : IDisposable
{
    private readonly string _cluster = "ms-" + Guid.NewGuid().ToString("N")[..8];
    private readonly ChildProcesses _processes = new();
    private static string Cli => Path.Combine(TestData.RepositoryRoot, "src", "Cli", "bin", "Release", "net10.0", "freshet.dll");

    private ProcessStartInfo Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestData.RepositoryRoot };
        start.ArgumentList.Add(Cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["Freshet__Silo__StorageConnectionString"] = azurite.ConnectionString;
        start.Environment["Freshet__Silo__ClusterId"] = _cluster;
        start.Environment["Freshet__Client__Profile"] = "azurite";
        start.Environment["Freshet__Client__StorageConnectionString"] = azurite.ConnectionString;
        start.Environment["Freshet__Client__ClusterId"] = _cluster;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return start;
    }

    // Warnings and errors of every silo, shown with the test's output (the last few hundred lines).
    private Process Silo(string roles, params string[] more) =>
        _processes.Keep($"{roles} silo", Start(["silo", "--profile", "azurite", "--roles", roles, "--silo-port", TestPorts.Free().ToString(), "--gateway-port", TestPorts.Free().ToString(), .. more]));

    private async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        using var p = _processes.Run(Start(args));
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(timeout.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static JsonNode Json(string stdout) => JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;

    [AzuriteFact]
    public async Task Three_silo_processes_serve_a_client_process_and_a_replaced_serving_silo_catches_up()
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: build the solution first (./test.sh does)");
        // Serving silos take no admin calls: the freshet processes' admin calls find the training silo's gateway.
        var http = TestPorts.Free();
        Silo("training");
        var serving1 = Silo("serving", "--no-admin");
        Silo("serving", "--no-admin", "--http-port", http.ToString());

        // A client in this process only watches (membership, replica status); the work goes through freshet processes.
        var b = Host.CreateApplicationBuilder();
        b.Logging.SetMinimumLevel(LogLevel.Warning);
        b.AddFreshetClient(o =>
        {
            o.Profile = "azurite";
            o.StorageConnectionString = azurite.ConnectionString;
            o.ClusterId = _cluster;
            o.ConnectTimeout = TimeSpan.FromMinutes(1);
        });
        using var host = b.Build();
        await host.StartAsync();
        var watch = host.Services.GetRequiredService<FreshetClient>();
        await WaitAsync(async () => (await watch.GetSilosAsync()).Count == 3, "three silos are active", TimeSpan.FromMinutes(2));
        // Its HTTP server starts with the host, and readiness waits for its replicas: poll until it answers ready.
        using (var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(10) })
        {
            var ready = "";
            await WaitAsync(async () =>
            {
                try
                {
                    using var response = await probe.GetAsync("/health/ready");
                    ready = await response.Content.ReadAsStringAsync();
                    return response.IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    ready = e.Message; // not listening yet, or not answering within the probe's timeout
                    return false;
                }
            }, "the serving silo's readiness probe answers", TimeSpan.FromMinutes(1));
            Assert.Equal("Healthy", ready);
        }

        const string model = "multi";
        var schema = Path.Combine(TestData.RepositoryRoot, "schemas", "synthetic.json");
        var start = await RunAsync("start", "--profile", "azurite", "--model", model, "--schema", schema, "--publish-interval", "1s", "--shards", "2", "--json");
        Assert.True(start.Code == 0, start.Error);
        var replay = await RunAsync("replay", "--job", $"{model}-main", "--schema", schema, "--data", "synthetic", "--samples", "20000", "--no-end");
        Assert.True(replay.Code == 0, replay.Error);

        ModelStatus status = null!;
        // Deltas 3 and on reach the replicas on the weights stream (Azure queues), not only from the store at load.
        await WaitAsync(async () => (status = await watch.GetStatusAsync(model)).Replicas.Count(r => r.Weights?.Delta >= 3 && r.Applied >= 2) == 2, "both serving silos apply streamed deltas", TimeSpan.FromMinutes(2),
            () => Describe(status));
        Assert.Equal(2, status.Silos.Count(s => s.Roles?.Serving == true));
        Assert.DoesNotContain(status.Silos, s => s.Roles?.Training == true && s.Replica is not null);

        const string row = "user=u1,item=i1,category=c3,device=d1,price=12.5";
        var scored = await RunAsync("score", "--profile", "azurite", "--model", model, "--row", row, "--json");
        Assert.True(scored.Code == 0, scored.Error);
        var prediction = Json(scored.Out)["predictions"]![0]!;
        Assert.True((long)prediction["deltaSequence"]! >= 1);

        // A serving silo dies: scoring goes on from the other one.
        serving1.Kill(entireProcessTree: true);
        await serving1.WaitForExitAsync();
        for (var i = 0; i < 3; i++)
        {
            var timed = Stopwatch.StartNew();
            var after = await RunAsync("score", "--profile", "azurite", "--model", model, "--row", row, "--json");
            Assert.True(after.Code == 0, after.Error);
            output.WriteLine($"score {i + 1} after the kill: {timed.Elapsed.TotalSeconds:F1} s (process start, connect, retries while the dead silo is still listed)");
        }

        // A replacement joins, loads the checkpoint and the retained deltas, and serves the version the other serves.
        var clock = Stopwatch.StartNew();
        var replacement = Silo("serving");
        var survivors = status.Silos.Where(s => s.Roles?.Serving == true).Select(s => s.Silo).ToHashSet();
        await WaitAsync(async () =>
        {
            var polled = Stopwatch.StartNew();
            status = await watch.GetStatusAsync(model);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1}s ({polled.ElapsedMilliseconds} ms): " + string.Join("; ", status.Silos.Select(s => $"{s.Silo} {(s.Roles?.Serving == true ? "serving" : "training")} {s.Replica?.Weights} {s.Error}")));
            var fresh = status.Silos.FirstOrDefault(s => s.Roles?.Serving == true && !survivors.Contains(s.Silo) && s.Replica is not null);
            var other = status.Replicas.Where(r => fresh is null || r.Silo != fresh.Silo).Select(r => r.Weights?.Checkpoint).FirstOrDefault();
            return fresh?.Replica is { } r && r.Weights?.Checkpoint == other && r.Weights?.Delta >= 3;
        }, "the replacement serves the same version", TimeSpan.FromMinutes(2));
        output.WriteLine($"replacement serving silo: {clock.Elapsed.TotalSeconds:F1} s from process start to serving (checkpoint + retained deltas)");
        var stop = await RunAsync("stop", "--profile", "azurite", "--model", model);
        Assert.True(stop.Code == 0, stop.Error);
        await host.StopAsync();
        Assert.False(replacement.HasExited);
    }

    [AzuriteFact]
    public async Task Two_training_silo_processes_split_shards_and_trainers_train_as_well_as_one_and_serving_follows()
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: build the solution first (./test.sh does)");
        var first = Silo("training");
        Silo("serving", "--no-admin");
        var b = Host.CreateApplicationBuilder();
        b.Logging.SetMinimumLevel(LogLevel.Warning);
        b.AddFreshetClient(o =>
        {
            o.Profile = "azurite";
            o.StorageConnectionString = azurite.ConnectionString;
            o.ClusterId = _cluster;
            o.ConnectTimeout = TimeSpan.FromMinutes(1);
        });
        using var host = b.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<FreshetClient>();
        var grains = host.Services.GetRequiredService<IClusterClient>();
        await WaitAsync(async () => (await client.GetSilosAsync()).Count == 2, "two silos are active", TimeSpan.FromMinutes(2));

        // The same samples train a model on one training silo, then another once a second training silo has joined;
        // both are scored on the same later samples through the serving silo.
        var schema = SchemaLoader.Load(Path.Combine(TestData.RepositoryRoot, "schemas", "synthetic.json"));
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(TrainSamples + 20_000).ToList();
        var held = samples.Skip(TrainSamples).Where(s => s.Task == TaskKind.Ctr).ToList();
        // Two trainers interleave their steps differently on every run, so one model's AUC varies run to run (standard
        // deviation about 0.0014 here, the same on one silo as on two): each side is the mean of two models trained at once.
        var train = samples.Take(TrainSamples).ToList();
        var solo = await Task.WhenAll(TrainAndScoreAsync(client, grains, schema, "solo-a", train, held), TrainAndScoreAsync(client, grains, schema, "solo-b", train, held));

        Silo("training");
        IReadOnlyList<ServingSiloStatus> silos = [];
        await WaitAsync(async () => (silos = (await client.GetStatusAsync("solo-a")).Silos).Count(s => s.Roles?.Training == true) == 2,
            "the second training silo is active", TimeSpan.FromMinutes(2));
        var training = silos.Where(s => s.Roles?.Training == true).Select(s => s.Silo).ToHashSet();
        var pair = await Task.WhenAll(TrainAndScoreAsync(client, grains, schema, "pair-a", train, held), TrainAndScoreAsync(client, grains, schema, "pair-b", train, held));

        foreach (var t in solo) output.WriteLine($"one training silo, {t.Model}: CTR AUC {t.Auc:F4}, shards on {string.Join(", ", t.ShardSilos)}, trainers on {string.Join(", ", t.TrainerSilos)}");
        foreach (var t in pair) output.WriteLine($"two training silos, {t.Model}: CTR AUC {t.Auc:F4}, shards on {string.Join(", ", t.ShardSilos)}, trainers on {string.Join(", ", t.TrainerSilos)}");
        double soloAuc = solo.Average(t => t.Auc), pairAuc = pair.Average(t => t.Auc);
        output.WriteLine($"mean CTR AUC: one training silo {soloAuc:F4}, two {pairAuc:F4}, difference {pairAuc - soloAuc:+0.0000;-0.0000}");
        Assert.All(solo, t => Assert.Single(t.ShardSilos.Concat(t.TrainerSilos).Distinct()));
        Assert.All(pair, t =>
        {
            Assert.All(training, s => Assert.Equal(2, t.ShardSilos.Count(p => p == s))); // 4 shards, 2 on each training silo
            Assert.Equal(training.Order(), t.TrainerSilos.Order()); // a trainer on each
        });
        Assert.True(Math.Abs(pairAuc - soloAuc) <= 0.005, $"mean CTR AUC {pairAuc:F4} on two training silos, {soloAuc:F4} on one");
        Assert.True(soloAuc > 0.7, $"CTR AUC {soloAuc:F4}");
        Assert.False(first.HasExited);
        await host.StopAsync();
    }

    private const int TrainSamples = 60_000;

    private sealed record Trained(string Model, double Auc, IReadOnlyList<string> ShardSilos, IReadOnlyList<string> TrainerSilos);

    /// <summary>
    /// Starts a deployment with 4 shards and 2 trainers publishing every second, trains it on the samples, waits until the
    /// serving replica applies streamed deltas and then switches to a full checkpoint taken after the last step, and scores
    /// the held-out samples through serving from that checkpoint.
    /// </summary>
    private async Task<Trained> TrainAndScoreAsync(FreshetClient client, IClusterClient grains, FeatureSchema schema, string model, List<Sample> train, List<Sample> held)
    {
        await client.StartAsync(new Freshet.Deployments.DeploymentSpec { Model = model, SchemaJson = schema.Json, Shards = 4, Trainers = 2, PublishInterval = TimeSpan.FromSeconds(1) });
        var job = model + "-main";
        await new SamplePublisher(grains, job, 2) { MaxInFlight = 8192 }.PublishAsync(train);
        ModelStatus status = null!;
        await WaitAsync(async () => (status = await client.GetStatusAsync(model)).Replicas.Any(r => r.Weights?.Delta >= 2 && r.Applied >= 1),
            $"the serving replica of {model} applies streamed deltas", TimeSpan.FromMinutes(3), () => Describe(status));
        JobStatus done = null!;
        await WaitAsync(async () => (done = await client.GetJobStatusAsync(job)).State == JobState.Completed, $"{job} trains every sample", TimeSpan.FromMinutes(5),
            () => $"{done?.State}: " + string.Join(", ", done?.Trainers.Select(t => $"{t.Trainer} {t.SamplesTrained} trained {t.Error}") ?? []));
        Assert.Equal(train.Count, done.Trainers.Sum(t => t.SamplesTrained));
        var checkpoint = (await client.CheckpointAsync(model)).ServingCheckpoint ?? throw new InvalidOperationException("no serving checkpoint");
        await WaitAsync(async () => (status = await client.GetStatusAsync(model)).Replicas.Any(r => r.Weights?.Checkpoint == checkpoint),
            $"the serving replica of {model} switches to checkpoint {checkpoint}", TimeSpan.FromMinutes(2), () => Describe(status));

        var scores = new List<float>(held.Count);
        foreach (var chunk in held.Chunk(1000))
        {
            var predictions = await client.ScoreSamplesAsync(model, new SampleBatch { Payload = SampleCodec.Encode(chunk), Count = chunk.Length });
            Assert.All(predictions, p => Assert.Equal(checkpoint, p.Weights.Checkpoint));
            scores.AddRange(predictions.Select(p => p.Ctr));
        }
        var auc = Freshet.Model.Metrics.Auc.Compute([.. scores], [.. held.Select(s => s.Label)]);
        var shards = await Task.WhenAll(Enumerable.Range(0, 4).Select(s => grains.Shard(model, s).GetStatusAsync()));
        return new Trained(model, auc, [.. shards.Select(s => s.Silo ?? "?")], [.. done.Trainers.Select(t => t.Silo ?? "?")]);
    }

    /// <summary>What the cluster looked like when a wait gave up: each silo's roles and replica.</summary>
    private static string Describe(ModelStatus? status) => status is null ? "no status read" : string.Join("; ", status.Silos.Select(s =>
        $"{s.Silo} {(s.Roles?.Serving == true ? "serving" : "training")} " +
        (s.Replica is { } r ? $"{r.Weights} target {r.TargetCheckpoint} applied {r.Applied} gaps {r.Gaps} refused {r.Refused} duplicates {r.Duplicates} error {r.Error}" : $"no replica {s.Error}")))
        + $"; last publish {status.LastPublishUtc:O}, main job published {status.Deployment.Main?.Published}";

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan limit, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is Orleans.Runtime.OrleansException or TimeoutException)
            {
                // the cluster is still forming or a silo just went away: ask again
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting until " + what + (describe is null ? "" : ": " + describe()));
            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        foreach (var line in _processes.Log) output.WriteLine(line);
        _processes.Dispose();
    }
}
