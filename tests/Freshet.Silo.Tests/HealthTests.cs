using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
            o.SiloPort = TestPorts.Free();
            o.GatewayPort = TestPorts.Free();
            o.ClusterId = "health-" + Guid.NewGuid().ToString("N")[..8];
            o.HttpPort = http;
            o.Dashboard = true;
        }).Build();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };

        await silo.StartAsync(timeout.Token);
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
            o.SiloPort = TestPorts.Free();
            o.GatewayPort = gateway;
            o.ClusterId = "nohttp-" + Guid.NewGuid().ToString("N")[..8];
        }).Build();
        await silo.StartAsync(timeout.Token);
        // No server listens (ASP.NET Core's would list its addresses, by default http://localhost:5000).
        var server = silo.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        var addresses = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>();
        Assert.True(addresses is null || addresses.Addresses.Count == 0, $"{server.GetType().Name} listens on {string.Join(", ", addresses?.Addresses ?? [])}");
        await silo.StopAsync(timeout.Token);

        var e = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Dashboard = true));
        Assert.Contains(e.Failures, f => f.StartsWith("Freshet:Silo:Dashboard: the dashboard is served on the HTTP port; set Freshet:Silo:HttpPort too", StringComparison.Ordinal));
        var same = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.HttpPort = o.GatewayPort));
        Assert.Contains(same.Failures, f => f.StartsWith("Freshet:Silo:HttpPort: must differ from SiloPort and GatewayPort", StringComparison.Ordinal));
    }
}
