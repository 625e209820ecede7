using Freshet.Hosting;
using Freshet.Grains.Placement;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Freshet.Grains.Hosting;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Freshet.Silo;

/// <summary>Builds the host of a Freshet silo from configuration (command-line, environment, appsettings).</summary>
public static class FreshetSilo
{
    /// <summary>Where the azure profile finds its Application Insights resource (the deployment output <c>appInsightsConnectionString</c>).</summary>
    public const string ApplicationInsightsVariable = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>
    /// Default log levels: Freshet's own events (jobs, publishes, checkpoints, swaps, refusals) at
    /// information; the libraries' routine chatter (Orleans' start-up and stream agents, Polly's
    /// "Resilience pipeline executed", ASP.NET Core's requests) only from warning. Override any
    /// of them the usual way, e.g. <c>Logging__LogLevel__Orleans=Information</c>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> QuietLibraries = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:Polly"] = "Warning",
        ["Logging:LogLevel:Azure"] = "Warning",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
    };

    /// <summary>
    /// A host running one silo. Its settings are read from <c>Freshet:Silo</c>, one options class per concern
    /// (<see cref="FreshetSiloOptions"/>), and checked before the silo is composed: a bad value stops the start
    /// with a message naming its key. <paramref name="configure"/> changes them in code after they are read.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<FreshetSiloOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Beneath every other source, so appsettings, environment and command line still override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = QuietLibraries });
        var options = FreshetSiloOptions.Bind(builder.Configuration);
        configure?.Invoke(options);
        options.Validate();
        options.Register(builder.Services);
        var silo = options.Silo;
        AddTelemetry(builder, options);
        SiloHttp.Add(builder, options);
        builder.UseOrleans(orleans =>
        {
            orleans.AddActivityPropagation();
            if (options.Http.Dashboard) Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(orleans);
            var tls = options.Tls;
            if (!string.IsNullOrWhiteSpace(tls.ClusterKey))
            {
                orleans.Services.AddSingleton(Grains.Admin.ClusterKey.FromSetting(tls.ClusterKey, $"{SiloOptions.Section}:ClusterKey"));
            }
            if (tls.Enabled)
            {
                var certificate = Freshet.Security.FreshetTls.Load(tls.TlsCertificate!, tls.TlsCertificateKey, tls.TlsCertificatePassword, $"{SiloOptions.Section}:TlsCertificate");
                var admins = Freshet.Security.FreshetTls.ParseThumbprints(tls.AdminCertificates, $"{SiloOptions.Section}:AdminCertificates");
                if (admins.Count == 0) admins = Freshet.Security.FreshetTls.ThumbprintsOf(certificate);
                var trusted = new HashSet<string>(Freshet.Security.FreshetTls.ParseThumbprints(tls.TlsTrustedThumbprints, $"{SiloOptions.Section}:TlsTrustedThumbprints"), StringComparer.Ordinal);
                trusted.UnionWith(admins);
                orleans.UseTls(certificate, o => Freshet.Security.FreshetTls.Configure(o, certificate, trusted));
                orleans.Services.AddSingleton(new Grains.Admin.AdminPolicy(admins));
            }
            orleans.Configure<ClusterOptions>(c =>
            {
                c.ClusterId = silo.ClusterId;
                c.ServiceId = silo.ServiceId;
            });
            var roles = SiloRoles.Parse(silo.Roles) with { AdminCalls = silo.AdminCalls };
            switch (silo.ProfileKind)
            {
                case FreshetProfile.Azure:
                    orleans.ConfigureEndpoints(IPAddress.Parse(silo.AdvertisedAddress), silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: true);
                    orleans.AddFreshetAzure(options.Azure, roles);
                    break;
                case FreshetProfile.Azurite:
                    orleans.ConfigureEndpoints(IPAddress.Parse(silo.AdvertisedAddress), silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: false);
                    orleans.AddFreshetAzureStorage(options.Azurite, roles);
                    break;
                default:
                    orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort,
                        primarySiloEndpoint: silo.PrimarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                        serviceId: silo.ServiceId, clusterId: silo.ClusterId);
                    orleans.AddFreshetLocal(options.Local, roles);
                    break;
            }
        });
        return builder;
    }

    /// <summary>
    /// OpenTelemetry for the <c>Freshet.*</c> meters and sources and Orleans' own: exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, to the console when <see cref="SiloTelemetryOptions.ConsoleTelemetry"/>;
    /// with neither, nothing is collected beyond the meters themselves.
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder, FreshetSiloOptions options)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        // Azure Monitor (Application Insights) in the azure profile, by the identity: the connection string only names the resource.
        var insights = options.Silo.ProfileKind == FreshetProfile.Azure ? builder.Configuration[ApplicationInsightsVariable] ?? Environment.GetEnvironmentVariable(ApplicationInsightsVariable) : null;
        var azureMonitor = !string.IsNullOrWhiteSpace(insights);
        var console = options.Telemetry.ConsoleTelemetry;
        if (!otlp && !console && !azureMonitor) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("freshet-silo", serviceInstanceId: $"{Environment.MachineName}:{options.Silo.SiloPort}"))
            .WithMetrics(m =>
            {
                m.AddMeter([.. Model.Telemetry.FreshetInstruments.MeterNames, "Microsoft.Orleans"]);
                if (otlp) m.AddOtlpExporter();
                if (console) m.AddConsoleExporter();
                if (azureMonitor) m.AddAzureMonitorMetricExporter(o => o.ConnectionString = insights, options.Azure.Credential());
            })
            .WithTracing(t =>
            {
                t.AddSource("Freshet.*", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application");
                if (otlp) t.AddOtlpExporter();
                if (console) t.AddConsoleExporter();
                if (azureMonitor) t.AddAzureMonitorTraceExporter(o => o.ConnectionString = insights, options.Azure.Credential());
            });
    }
}
