using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Freshet.Grains.Serving;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Silo.Tests;

public class HealthTests
{
    [Fact]
    public async Task A_silo_answers_its_health_probes_and_serves_the_dashboard_by_option()
    {
        var http = TestPorts.Free();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var silo = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = TestPorts.Free();
            o.Silo.GatewayPort = TestPorts.Free();
            o.Silo.ClusterId = "health-" + Guid.NewGuid().ToString("N")[..8];
            o.Http.HttpPort = http;
            o.Http.Dashboard = true;
        }).Build();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };

        await silo.StartAsync(timeout.Token);
        await WaitReadyAsync(client, timeout.Token);
        foreach (var probe in new[] { "/health/startup", "/health/ready", "/health/live" })
        {
            var answer = await client.GetAsync(probe, timeout.Token);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{probe}: {answer.StatusCode}");
            Assert.Equal("Healthy", await answer.Content.ReadAsStringAsync(timeout.Token));
        }
        var dashboard = await client.GetAsync("/dashboard", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("<html", await dashboard.Content.ReadAsStringAsync(timeout.Token), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/health/other", timeout.Token)).StatusCode);
        await silo.StopAsync(timeout.Token);
    }

    [Fact]
    public async Task Without_a_port_there_is_no_http_server_and_a_dashboard_without_one_is_refused()
    {
        var gateway = TestPorts.Free();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var silo = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = TestPorts.Free();
            o.Silo.GatewayPort = gateway;
            o.Silo.ClusterId = "nohttp-" + Guid.NewGuid().ToString("N")[..8];
        }).Build();
        await silo.StartAsync(timeout.Token);
        // No server listens (ASP.NET Core's would list its addresses, by default http://localhost:5000).
        var server = silo.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        var addresses = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>();
        Assert.True(addresses is null || addresses.Addresses.Count == 0, $"{server.GetType().Name} listens on {string.Join(", ", addresses?.Addresses ?? [])}");
        await silo.StopAsync(timeout.Token);

        var e = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Http.Dashboard = true));
        Assert.Contains(e.Failures, f => f.StartsWith("Freshet:Silo:Dashboard: the dashboard is served on the HTTP port; set Freshet:Silo:HttpPort too", StringComparison.Ordinal));
        var same = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Http.HttpPort = o.Silo.GatewayPort));
        Assert.Contains(same.Failures, f => f.StartsWith("Freshet:Silo:HttpPort: must differ from SiloPort and GatewayPort", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_serving_silo_reports_ready_only_once_the_replicas_it_follows_are_loaded()
    {
        var folder = Path.Combine(Path.GetTempPath(), "freshet-ready-" + Guid.NewGuid().ToString("N"));
        var checkpoints = Path.Combine(folder, "checkpoints");
        var state = Path.Combine(folder, "state");
        var cluster = "ready-" + Guid.NewGuid().ToString("N")[..8];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            // A model with a checkpoint that serving follows (its version announced), as a job leaves it.
            var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
            CheckpointManifest manifest;
            using (var model = new InProcessParameterStore(schema))
            {
                manifest = await ModelCheckpoint.SaveAsync(new LocalCheckpointStore(checkpoints), model, null, 0, "all", timeout.Token, "ready");
            }
            using (var first = FreshetSilo.CreateBuilder([], o => Local(o, cluster, checkpoints, state)).Build())
            {
                await first.StartAsync(timeout.Token);
                await first.Services.GetRequiredService<IGrainFactory>().GetGrain<IServingVersionGrain>("ready").SetAsync(manifest.Version);
                await first.StopAsync(timeout.Token);
            }

            // A serving silo starting on that store: when its probe first says ready, the replica is in memory.
            var http = TestPorts.Free();
            using var silo = FreshetSilo.CreateBuilder([], o =>
            {
                Local(o, cluster, checkpoints, state);
                o.Http.HttpPort = http;
            }).Build();
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
            await silo.StartAsync(timeout.Token);
            await WaitReadyAsync(client, timeout.Token);
            var replica = silo.Services.GetRequiredService<ServingRegistry>().TryGet("ready");
            Assert.NotNull(replica);
            Assert.Equal(manifest.Version, replica.Weights?.Checkpoint);
            await silo.StopAsync(timeout.Token);
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static void Local(FreshetSiloOptions o, string cluster, string checkpoints, string state)
    {
        o.Silo.SiloPort = TestPorts.Free();
        o.Silo.GatewayPort = TestPorts.Free();
        o.Silo.ClusterId = cluster;
        o.Local.CheckpointDirectory = checkpoints;
        o.Local.StateDirectory = state;
    }

    /// <summary>Polls the readiness probe until it answers 200, or the deadline passes.</summary>
    private static async Task WaitReadyAsync(HttpClient client, CancellationToken deadline)
    {
        while (true)
        {
            using var answer = await client.GetAsync("/health/ready", deadline);
            if (answer.StatusCode == HttpStatusCode.OK) return;
            await Task.Delay(20, deadline);
        }
    }
}
