using System.Net;
using System.Net.Sockets;
using Freshet.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Cli.Cluster;

/// <summary>A silo in this process (local profile, free ports), for commands that run a job on a cluster of one.</summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly IHost _host;

    private LocalCluster(IHost host, string checkpoints)
    {
        _host = host;
        CheckpointDirectory = checkpoints;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    public string CheckpointDirectory { get; }

    public static async Task<LocalCluster> StartAsync(string checkpoints, CancellationToken cancellationToken)
    {
        var builder = FreshetSilo.CreateBuilder([], o =>
        {
            o.SiloPort = FreePort();
            o.GatewayPort = FreePort();
            o.ClusterId = "local-" + Guid.NewGuid().ToString("N")[..8];
            o.CheckpointDirectory = checkpoints;
        });
        // Results go to stdout; the silo's own log stays quiet there and speaks on stderr when it must.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new LocalCluster(host, checkpoints);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
