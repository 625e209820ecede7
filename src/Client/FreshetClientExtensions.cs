using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Freshet.Client;

/// <summary>Registers the Freshet client on a host.</summary>
public static class FreshetClientExtensions
{
    /// <summary>
    /// Connects the host to a Freshet cluster (options from <c>Freshet:Client</c>, then
    /// <paramref name="configure"/>) and registers <see cref="FreshetClient"/>.
    /// </summary>
    public static IHostApplicationBuilder AddFreshetClient(this IHostApplicationBuilder builder, Action<FreshetClientOptions>? configure = null)
    {
        var options = builder.Configuration.GetSection(FreshetClientOptions.Section).Get<FreshetClientOptions>() ?? new FreshetClientOptions();
        configure?.Invoke(options);
        if (options.GatewayPort is < 1 or > 65535)
        {
            throw new ArgumentException($"{FreshetClientOptions.Section}:GatewayPort: {options.GatewayPort} is not a TCP port (1..65535)");
        }
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId);
            client.Configure<ClusterOptions>(c =>
            {
                c.ClusterId = options.ClusterId;
                c.ServiceId = options.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromMinutes(5));
            // Producers (freshet replay) publish samples on the cluster's memory streams.
            client.AddMemoryStreams(FreshetNames.StreamProvider);
        });
        builder.Services.AddSingleton<FreshetClient>();
        return builder;
    }
}
