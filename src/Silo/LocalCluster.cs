using Freshet.Grains.Placement;
using Freshet.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Silo;

/// <summary>Silos in this process (local profile, free ports), for commands that run a job on a local cluster.</summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly IReadOnlyList<IHost> _hosts;

    private LocalCluster(IReadOnlyList<IHost> hosts, string checkpoints, string clusterId, IReadOnlyList<int> gatewayPorts)
    {
        _hosts = hosts;
        CheckpointDirectory = checkpoints;
        ClusterId = clusterId;
        GatewayPorts = gatewayPorts;
        Client = hosts[0].Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    public string CheckpointDirectory { get; }

    /// <summary>The cluster's id, for an external client (profile local) to join it.</summary>
    public string ClusterId { get; }

    /// <summary>Each silo's gateway port, in the order of the roles it was started with.</summary>
    public IReadOnlyList<int> GatewayPorts { get; }

    /// <summary>Starts one silo per entry of <paramref name="roles"/> (default: one silo with both roles) on free loopback ports, sharing a checkpoint folder.</summary>
    public static async Task<LocalCluster> StartAsync(string checkpoints, CancellationToken cancellationToken, params SiloRoles[] roles)
    {
        if (roles.Length == 0) roles = [SiloRoles.Both];
        var clusterId = "local-" + Guid.NewGuid().ToString("N")[..8];
        var hosts = new List<IHost>();
        var gateways = new List<int>();
        int? primary = null;
        try
        {
            foreach (var r in roles)
            {
                var siloPort = FreePort();
                var gatewayPort = FreePort();
                var builder = FreshetSilo.CreateBuilder([], o =>
                {
                    o.Silo.SiloPort = siloPort;
                    o.Silo.GatewayPort = gatewayPort;
                    o.Silo.ClusterId = clusterId;
                    o.Local.CheckpointDirectory = checkpoints;
                    o.Silo.Roles = r.ToString();
                    o.Silo.PrimarySiloPort = primary;
                });
                // Results go to stdout; the silo's own log stays quiet there and speaks on stderr when it must.
                builder.Logging.ClearProviders();
                builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                var host = builder.Build();
                await host.StartAsync(cancellationToken);
                hosts.Add(host);
                gateways.Add(gatewayPort);
                primary ??= siloPort;
            }
        }
        catch
        {
            foreach (var h in hosts) h.Dispose();
            throw;
        }
        return new LocalCluster(hosts, checkpoints, clusterId, gateways);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var host in _hosts.Reverse())
        {
            await host.StopAsync(stop.Token);
            host.Dispose();
        }
    }

    /// <summary>A TCP port free on loopback now, never one this process was given before (<see cref="LoopbackPorts"/>).</summary>
    public static int FreePort() => LoopbackPorts.Free();
}
