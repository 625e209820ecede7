using Freshet.Hosting;
using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Freshet.Tools.Cluster;
using Freshet.Client;
using Freshet.Experiments;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Drills;

/// <summary>Driving the drill's cluster: clients connected through chosen gateways, admin calls retried through a failover, waits with deadlines that name the silos' last words, everything stopped.</summary>
public static partial class LoadDrill
{
    /// <summary>Stops a drill's clients (each within 10 s) and kills its silo processes.</summary>
    internal static async Task StopAsync(IEnumerable<IHost> clients, IEnumerable<SiloProcess> silos)
    {
        foreach (var h in clients)
        {
            try
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await h.StopAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or Orleans.Runtime.OrleansException or ObjectDisposedException)
            {
                // a client whose gateway is gone stops as best it can
            }
            h.Dispose();
        }
        foreach (var s in silos) s.Dispose();
    }

    internal static async Task<T> AdminAsync<T>(Func<Task<T>> call)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (FreshetClient.IsTransient(e) && clock.Elapsed < TimeSpan.FromMinutes(1))
            {
                await Task.Delay(500);
            }
        }
    }

    internal static string Describe(Exception e)
    {
        var inner = e is AggregateException { InnerException: { } i } ? i : e;
        var message = inner.Message.ReplaceLineEndings(" ");
        return $"{inner.GetType().Name}: {(message.Length > 300 ? message[..300] + "..." : message)}";
    }

    internal static async Task<FreshetClient> ConnectAsync(List<IHost> hosts, IReadOnlyList<SiloProcess> silos, Action<FreshetClientOptions> gateways, string clusterId, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder([]);
        builder.Logging.ClearProviders();
        builder.AddFreshetClient(o =>
        {
            gateways(o);
            o.ClusterId = clusterId;
            o.ConnectTimeout = TimeSpan.FromMinutes(1);
        });
        var host = builder.Build();
        hosts.Add(host);
        try
        {
            await host.StartAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            foreach (var s in silos) s.ThrowIfExited();
            throw;
        }
        return host.Services.GetRequiredService<FreshetClient>();
    }

    internal static async Task WaitAsync(Func<Task<bool>> done, IReadOnlyList<SiloProcess> silos, string what, TimeSpan limit, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            foreach (var s in silos) s.ThrowIfExited();
            if (clock.Elapsed > limit) throw new TimeoutException($"drill: not done within {limit.TotalMinutes:F0} minutes: {what}");
            await Task.Delay(200, ct);
        }
    }
}
