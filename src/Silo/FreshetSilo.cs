using System.Net;
using Freshet.Grains.Hosting;
using Freshet.Grains.Serving;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Freshet.Silo;

/// <summary>Builds the host of a Freshet silo from configuration (command-line, environment, appsettings).</summary>
public static class FreshetSilo
{
    /// <summary>The storage emulator on its standard loopback ports: the azurite profile's default, and only its.</summary>
    public const string AzuriteConnectionString = "UseDevelopmentStorage=true";

    /// <summary>
    /// A host running one silo. Options are read from <c>Freshet:Silo</c> and validated before the
    /// silo starts: a bad value stops the start with a message naming its key.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args, Action<SiloOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        var options = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        configure?.Invoke(options);
        var validation = new SiloOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(SiloOptions.Section, typeof(SiloOptions), validation.Failures);
        }
        builder.Services.AddSingleton(Options.Create(options));
        AddTelemetry(builder, options);
        builder.UseOrleans(silo =>
        {
            silo.AddActivityPropagation();
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
                        Credential = new Azure.Identity.DefaultAzureCredential(new Azure.Identity.DefaultAzureCredentialOptions
                        {
                            ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId,
                            WorkloadIdentityClientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId,
                        }),
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

    /// <summary>
    /// OpenTelemetry for the <c>Freshet.*</c> meters and sources and Orleans' own: exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, to the console when <see cref="SiloOptions.ConsoleTelemetry"/>;
    /// with neither, nothing is collected beyond the meters themselves.
    /// </summary>
    private static void AddTelemetry(HostApplicationBuilder builder, SiloOptions options)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if (!otlp && !options.ConsoleTelemetry) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("freshet-silo", serviceInstanceId: $"{Environment.MachineName}:{options.SiloPort}"))
            .WithMetrics(m =>
            {
                m.AddMeter([.. Model.Telemetry.FreshetMetrics.MeterNames, "Microsoft.Orleans"]);
                if (otlp) m.AddOtlpExporter();
                if (options.ConsoleTelemetry) m.AddConsoleExporter();
            })
            .WithTracing(t =>
            {
                t.AddSource("Freshet.*", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application");
                if (otlp) t.AddOtlpExporter();
                if (options.ConsoleTelemetry) t.AddConsoleExporter();
            });
    }
}
