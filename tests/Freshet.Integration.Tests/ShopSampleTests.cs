using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Freshet.Integration.Tests;

/// <summary>
/// The SDK as users install it: samples/Shop, built against the Freshet.Client package, ranks through a silo
/// process and reports what shoppers did; the labels come back as training samples of the model's main job.
/// </summary>
public sealed class ShopSampleTests(ITestOutputHelper output) : IDisposable
{
    private static string Cli => Path.Combine(TestData.RepositoryRoot, "src", "Cli", "bin", "Release", "net10.0", "freshet.dll");
    private static string Shop => Path.Combine(TestData.RepositoryRoot, "samples", "Shop", "bin", "Release", "net10.0", "Shop.dll");
    private readonly ChildProcesses _processes = new();
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "freshet-shop-" + Guid.NewGuid().ToString("N"));

    private Process Start(string name, string dll, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _folder };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        return _processes.Keep(name, start);
    }

    [Fact]
    public async Task The_shop_sample_ranks_through_the_package_and_its_labels_come_back_as_training_samples()
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: build the solution first (./test.sh does)");
        Assert.True(File.Exists(Shop), $"{Shop} is missing: ./test.sh packs the SDK into artifacts/feed and builds samples/Shop against it");
        Assert.Contains(Directory.GetFiles(Path.GetDirectoryName(Shop)!), f => Path.GetFileName(f) == "Freshet.Client.dll");
        Directory.CreateDirectory(_folder);
        try
        {
            var gateway = TestPorts.Free();
            Start("silo", Cli, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" },
                "silo", "--profile", "local", "--silo-port", TestPorts.Free().ToString(), "--gateway-port", gateway.ToString(), "--checkpoints", Path.Combine(_folder, "checkpoints"));

            // This test's own client starts the deployment (with its feedback loop) and trains it a little, as an operator would.
            var b = Host.CreateApplicationBuilder();
            b.Logging.SetMinimumLevel(LogLevel.Warning);
            b.AddFreshetClient(o =>
            {
                o.GatewayPort = gateway;
                o.ConnectTimeout = TimeSpan.FromMinutes(1);
            });
            using var host = b.Build();
            await host.StartAsync();
            var freshet = host.Services.GetRequiredService<FreshetClient>();
            var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
            var spec = new DeploymentSpec
            {
                Model = "shop", SchemaJson = schema.Json, Shards = 2, PublishInterval = TimeSpan.FromSeconds(1),
                DailyCheckpointAt = DeploymentSpec.DailyCheckpointFarFrom(DateTime.UtcNow),
                Feedback = new FeedbackSpec { Joiners = 2 },
            };
            await freshet.StartAsync(spec);
            var job = spec.JobOf(DeploymentJob.Main);
            var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(3_000).ToList();
            await new SamplePublisher(host.Services.GetRequiredService<IClusterClient>(), job, 1).PublishAsync(samples, end: false);
            await WaitAsync(async () => (await freshet.GetStatusAsync("shop")).Replicas.Any(r => r.Weights is not null), "serving holds the shop model");
            await WaitAsync(async () => (await freshet.GetJobStatusAsync(job)).Trainers.Sum(t => t.SamplesReceived) == samples.Count, "the trainer has the published samples");

            var port = TestPorts.Free();
            Start("shop", Shop, new Dictionary<string, string> { ["Freshet__Client__GatewayPort"] = gateway.ToString(), ["Shop__Model"] = "shop" }, "--urls", $"http://127.0.0.1:{port}");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            await WaitAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync("/")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "the shop service answers");

            // Rank ten items for a shopper: ordered by purchase chance, each with its prediction id.
            var rank = await http.PostAsJsonAsync("/rank", new
            {
                user = "u17",
                candidates = Enumerable.Range(0, 10).Select(i => new { item = "i" + i, category = "c" + (i % 3), price = 10.0 + i }).ToArray(),
            });
            var body = await rank.Content.ReadAsStringAsync();
            Assert.True(rank.IsSuccessStatusCode, body);
            var items = JsonNode.Parse(body)!["items"]!.AsArray();
            Assert.Equal(10, items.Count);
            var chances = items.Select(i => (double)i!["purchaseChance"]!).ToList();
            Assert.Equal(chances.OrderByDescending(c => c), chances);
            var ids = items.Select(i => (string)i!["predictionId"]!).ToList();
            Assert.All(ids, id => Assert.True(PredictionId.TryParse(id, out var p) && p.Model == "shop", id));

            // The shopper clicks three and buys one; a bad id is refused with what to pass.
            foreach (var id in ids.Take(3)) Assert.True((await http.PostAsJsonAsync("/click", new { predictionId = id })).IsSuccessStatusCode);
            Assert.True((await http.PostAsJsonAsync("/conversion", new { predictionId = ids[0] })).IsSuccessStatusCode);
            var bad = await http.PostAsJsonAsync("/click", new { predictionId = "not-an-id" });
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("pass an item's predictionId as /rank returned it", await bad.Content.ReadAsStringAsync());

            // Back as training samples (FNW): ten provisional CTR negatives when ranked, three late CTR positives, three
            // provisional CVR negatives and one late CVR positive.
            await WaitAsync(async () => (await freshet.GetJobStatusAsync(job)).Trainers.Sum(t => t.SamplesReceived) == samples.Count + 17, "the trainer receives the 17 samples the rows and labels made");
            var joiners = await Task.WhenAll(Enumerable.Range(0, 2).Select(j => host.Services.GetRequiredService<IClusterClient>().Joiner("shop", j).GetStatusAsync()));
            Assert.Equal((10L, 3L, 1L), (joiners.Sum(j => j.Predictions), joiners.Sum(j => j.Clicks), joiners.Sum(j => j.Conversions)));
            await host.StopAsync();
        }
        catch
        {
            foreach (var line in _processes.Log) output.WriteLine(line);
            throw;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after 2 minutes waiting until {what}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        _processes.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
