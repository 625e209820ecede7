using System.Net;
using Microsoft.AspNetCore.Builder;
using Freshet.Grains.Hosting;
using Freshet.Grains.Serving;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Freshet.Silo;

/// <summary>Builds the host of a Freshet silo from configuration (command-line, environment, appsettings).</summary>
public static class FreshetSilo
{
    /// <summary>The storage emulator on its standard loopback ports: the azurite profile's default, and only its.</summary>
    public const string AzuriteConnectionString = "UseDevelopmentStorage=true";

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
    /// A host running one silo. Options are read from <c>Freshet:Silo</c> and validated before the
    /// silo starts: a bad value stops the start with a message naming its key.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<SiloOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Beneath every other source, so appsettings, environment and command line still override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = QuietLibraries });
        var options = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        configure?.Invoke(options);
        var validation = new SiloOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(SiloOptions.Section, typeof(SiloOptions), validation.Failures);
        }
        builder.Services.AddSingleton(Options.Create(options));
        AddTelemetry(builder, options);
        SiloHttp.Add(builder, options);
        builder.UseOrleans(silo =>
        {
            silo.AddActivityPropagation();
            if (options.Dashboard) Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo);
            if (!string.IsNullOrWhiteSpace(options.TlsCertificate))
            {
                var certificate = Client.FreshetTls.Load(options.TlsCertificate, options.TlsCertificateKey, options.TlsCertificatePassword, $"{SiloOptions.Section}:TlsCertificate");
                var admins = Client.FreshetTls.ParseThumbprints(options.AdminCertificates, $"{SiloOptions.Section}:AdminCertificates");
                if (admins.Count == 0) admins = Client.FreshetTls.ThumbprintsOf(certificate);
                var trusted = new HashSet<string>(Client.FreshetTls.ParseThumbprints(options.TlsTrustedThumbprints, $"{SiloOptions.Section}:TlsTrustedThumbprints"), StringComparer.Ordinal);
                trusted.UnionWith(admins);
                silo.UseTls(certificate, o => Client.FreshetTls.Configure(o, certificate, trusted));
                silo.Services.AddSingleton(new Grains.Admin.AdminPolicy(options.AdminCalls, admins));
            }
            else
            {
                silo.Services.AddSingleton(new Grains.Admin.AdminPolicy(options.AdminCalls));
            }
            silo.Configure<ClusterOptions>(c =>
            {
                c.ClusterId = options.ClusterId;
                c.ServiceId = options.ServiceId;
            });
            switch (options.Profile)
            {
                case "azure":
                    silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
                    silo.AddFreshetAzure(new AzureSettings
                    {
                        BlobEndpoint = new Uri(options.BlobEndpoint!),
                        TableEndpoint = new Uri(options.TableEndpoint!),
                        EventHubsNamespace = options.EventHubsNamespace!,
                        StreamsHub = options.StreamsHub,
                        CtrSamplesHub = options.CtrSamplesHub,
                        CvrSamplesHub = options.CvrSamplesHub,
                        SampleJobs = new Dictionary<string, int>(options.SampleJobs, StringComparer.Ordinal),
                        Credential = AzureCredential(options),
                    }, SiloRoles.Parse(options.Roles));
                    break;
                case "azurite":
                    silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
                    silo.AddFreshetAzureStorage(new AzureStorageSettings { ConnectionString = options.StorageConnectionString ?? AzuriteConnectionString }, SiloRoles.Parse(options.Roles));
                    break;
                default:
                    silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
                        primarySiloEndpoint: options.PrimarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                        serviceId: options.ServiceId, clusterId: options.ClusterId);
                    silo.AddFreshetLocal(options.CheckpointDirectory, options.StateDirectory, SiloRoles.Parse(options.Roles));
                    break;
            }
        });
        return builder;
    }

    /// <summary>The azure profile's credential: the silos' managed identity (workload identity on AKS), else the environment's default.</summary>
    private static Azure.Identity.DefaultAzureCredential AzureCredential(SiloOptions options) => new(new Azure.Identity.DefaultAzureCredentialOptions
    {
        ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId,
        WorkloadIdentityClientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId,
    });

    /// <summary>
    /// OpenTelemetry for the <c>Freshet.*</c> meters and sources and Orleans' own: exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, to the console when <see cref="SiloOptions.ConsoleTelemetry"/>;
    /// with neither, nothing is collected beyond the meters themselves.
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder, SiloOptions options)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        // Azure Monitor (Application Insights) in the azure profile, by the identity: the connection string only names the resource.
        var insights = options.Profile == "azure" ? builder.Configuration[ApplicationInsightsVariable] ?? Environment.GetEnvironmentVariable(ApplicationInsightsVariable) : null;
        var azureMonitor = !string.IsNullOrWhiteSpace(insights);
        if (!otlp && !options.ConsoleTelemetry && !azureMonitor) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("freshet-silo", serviceInstanceId: $"{Environment.MachineName}:{options.SiloPort}"))
            .WithMetrics(m =>
            {
                m.AddMeter([.. Model.Telemetry.FreshetInstruments.MeterNames, "Microsoft.Orleans"]);
                if (otlp) m.AddOtlpExporter();
                if (options.ConsoleTelemetry) m.AddConsoleExporter();
                if (azureMonitor) m.AddAzureMonitorMetricExporter(o => o.ConnectionString = insights, AzureCredential(options));
            })
            .WithTracing(t =>
            {
                t.AddSource("Freshet.*", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application");
                if (otlp) t.AddOtlpExporter();
                if (options.ConsoleTelemetry) t.AddConsoleExporter();
                if (azureMonitor) t.AddAzureMonitorTraceExporter(o => o.ConnectionString = insights, AzureCredential(options));
            });
    }
}
