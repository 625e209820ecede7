using Azure.Data.Tables;
using Freshet.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

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
        if (options.ScoringCallTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{FreshetClientOptions.Section}:ScoringCallTimeout: {options.ScoringCallTimeout} must be positive (e.g. 00:00:05)");
        }
        if (options.GatewayPorts is { } ports)
        {
            if (ports.Length == 0) throw new ArgumentException($"{FreshetClientOptions.Section}:GatewayPorts: the list is empty; give at least one port, or leave it unset and use GatewayPort");
            foreach (var port in ports)
            {
                if (port is < 1 or > 65535) throw new ArgumentException($"{FreshetClientOptions.Section}:GatewayPorts: {port} is not a TCP port (1..65535)");
            }
        }
        var profile = FreshetProfiles.Parse(options.Profile, $"{FreshetClientOptions.Section}:Profile", FreshetProfile.Local, FreshetProfile.Azurite);
        var tls = options.TlsCertificate is { Length: > 0 } path
            ? (Certificate: Security.FreshetTls.Load(path, options.TlsCertificateKey, options.TlsCertificatePassword, $"{FreshetClientOptions.Section}:TlsCertificate"),
               Trusted: Security.FreshetTls.ParseThumbprints(options.TlsTrustedThumbprints, $"{FreshetClientOptions.Section}:TlsTrustedThumbprints"))
            : default;
        builder.UseOrleansClient(client =>
        {
            if (tls.Certificate is { } certificate)
            {
                client.UseTls(certificate, o => Security.FreshetTls.Configure(o, certificate, tls.Trusted));
                client.Services.AddSingleton<IOutgoingGrainCallFilter>(sp => new AdminProofFilter(certificate, TimeProvider.System, sp.GetRequiredService<Orleans.Serialization.Serializer>()));
            }
            if (profile == FreshetProfile.Azurite)
            {
                var cs = options.StorageConnectionString;
                if (options.GatewayPorts is { } pinned)
                {
                    // Given gateways (on this host): only those, not every silo's from the membership table.
                    client.UseLocalhostClustering(pinned, options.ServiceId, options.ClusterId);
                }
                else
                {
                    client.UseAzureStorageClustering(o =>
                    {
                        o.TableServiceClient = new TableServiceClient(cs);
                        o.TableName = FreshetNames.ClusteringTable;
                    });
                }
            }
            else
            {
                client.UseLocalhostClustering(options.GatewayPorts ?? [options.GatewayPort], options.ServiceId, options.ClusterId);
            }
            // No stream provider: the cluster's streams are the silos' own. Samples go through ISampleIntakeGrain
            // (SamplePublisher), labels through the joiners (ReportAsync).
            client.Configure<ClusterOptions>(c =>
            {
                c.ClusterId = options.ClusterId;
                c.ServiceId = options.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromMinutes(5));
            var started = System.Diagnostics.Stopwatch.StartNew();
            client.UseConnectionRetryFilter(async (_, ct) =>
            {
                if (started.Elapsed >= options.ConnectTimeout) return false;
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                return true;
            });
        });
        builder.Services.AddSingleton(sp => new FreshetClient(sp.GetRequiredService<IClusterClient>()) { ScoringRetryLimit = options.ScoringRetryLimit, ScoringCallTimeout = options.ScoringCallTimeout });
        return builder;
    }
}
