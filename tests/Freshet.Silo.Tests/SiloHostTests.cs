using System.Net.Sockets;
using Freshet.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Freshet.Silo.Tests;

public class SiloHostTests
{
    [Fact]
    public async Task A_local_silo_starts_a_client_connects_and_both_stop_cleanly()
    {
        var siloPort = TestPorts.Free();
        var gatewayPort = TestPorts.Free();
        var clusterId = "test-" + Guid.NewGuid().ToString("N")[..8];
        using var silo = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = siloPort;
            o.Silo.GatewayPort = gatewayPort;
            o.Silo.ClusterId = clusterId;
        }).Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await silo.StartAsync(timeout.Token);

        var clientBuilder = Host.CreateApplicationBuilder();
        clientBuilder.AddFreshetClient(o =>
        {
            o.GatewayPort = gatewayPort;
            o.ClusterId = clusterId;
        });
        using var client = clientBuilder.Build();
        await client.StartAsync(timeout.Token);

        var silos = await client.Services.GetRequiredService<FreshetClient>().GetSilosAsync();
        var only = Assert.Single(silos);
        Assert.Equal("Active", only.Status);
        Assert.Contains(siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture), only.Address);

        await client.StopAsync(timeout.Token);
        await silo.StopAsync(timeout.Token);
        Assert.False(timeout.IsCancellationRequested);
    }

    [Fact]
    public void Freshets_events_log_by_default_the_libraries_chatter_only_from_warning_and_configuration_overrides_it()
    {
        static ILoggerFactory Loggers(string[] args)
        {
            var builder = FreshetSilo.CreateBuilder(args);
            return builder.Services.BuildServiceProvider().GetRequiredService<ILoggerFactory>();
        }

        var quiet = Loggers([]);
        Assert.True(quiet.CreateLogger("Freshet.Grains.Jobs.TrainingOrchestratorGrain").IsEnabled(LogLevel.Information));
        Assert.True(quiet.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Information));
        Assert.False(quiet.CreateLogger("Polly").IsEnabled(LogLevel.Information));
        Assert.False(quiet.CreateLogger("Orleans.Streams.PersistentStreamPullingManager.freshet").IsEnabled(LogLevel.Information));
        Assert.True(quiet.CreateLogger("Orleans.Runtime.Watchdog").IsEnabled(LogLevel.Warning));

        var chatty = Loggers(["--Logging:LogLevel:Orleans=Information"]);
        Assert.True(chatty.CreateLogger("Orleans.Runtime.Silo").IsEnabled(LogLevel.Information));
        Assert.False(chatty.CreateLogger("Polly").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void The_azure_profile_fails_at_start_naming_each_missing_or_bad_endpoint()
    {
        var missing = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder(["--Freshet:Silo:Profile=azure", "--Freshet:Silo:BlobEndpoint=https://acct.blob.core.windows.net/"]));
        Assert.DoesNotContain(missing.Failures, f => f.Contains("BlobEndpoint", StringComparison.Ordinal));
        Assert.Contains(missing.Failures, f => f.StartsWith("Freshet:Silo:TableEndpoint: the azure profile needs it", StringComparison.Ordinal));
        Assert.Contains(missing.Failures, f => f.StartsWith("Freshet:Silo:EventHubsNamespace: the azure profile needs", StringComparison.Ordinal));

        var bad = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.Profile = "azure";
            o.Azure.BlobEndpoint = "http://acct.blob.core.windows.net/";
            o.Azure.TableEndpoint = "https://acct.table.core.windows.net/";
            o.Azure.EventHubsNamespace = "not a host";
            o.Azurite.StorageConnectionString = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=secret";
        }));
        Assert.Contains(bad.Failures, f => f.StartsWith("Freshet:Silo:BlobEndpoint: 'http://acct.blob.core.windows.net/' is not an https URI", StringComparison.Ordinal));
        Assert.Contains(bad.Failures, f => f.StartsWith("Freshet:Silo:EventHubsNamespace: 'not a host' is not a host name", StringComparison.Ordinal));
        Assert.Contains(bad.Failures, f => f.StartsWith("Freshet:Silo:StorageConnectionString: the azure profile uses endpoints and a managed identity", StringComparison.Ordinal));
        Assert.DoesNotContain(bad.Failures, f => f.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public void Telemetry_exports_only_when_asked()
    {
        using var quiet = FreshetSilo.CreateBuilder([]).Build();
        Assert.Null(quiet.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        using var console = FreshetSilo.CreateBuilder([], o => o.Telemetry.ConsoleTelemetry = true).Build();
        Assert.NotNull(console.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        Assert.NotNull(console.Services.GetService<OpenTelemetry.Trace.TracerProvider>());
        using var otlp = FreshetSilo.CreateBuilder(["--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"]).Build();
        Assert.NotNull(otlp.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());

        // Azure Monitor: in the azure profile when the Application Insights resource is named; the local profile ignores it.
        const string insights = "--APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/";
        using var local = FreshetSilo.CreateBuilder([insights]).Build();
        Assert.Null(local.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        using var azure = FreshetSilo.CreateBuilder([insights, "--Freshet:Silo:Profile=azure", "--Freshet:Silo:BlobEndpoint=https://acct.blob.core.windows.net/",
            "--Freshet:Silo:TableEndpoint=https://acct.table.core.windows.net/", "--Freshet:Silo:EventHubsNamespace=ns.servicebus.windows.net"]).Build();
        // (with neither OTLP nor the console asked for, a provider here is the Azure Monitor exporter's)
        Assert.NotNull(azure.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        Assert.NotNull(azure.Services.GetService<OpenTelemetry.Trace.TracerProvider>());
    }

    [Fact]
    public void A_bad_setting_fails_the_start_naming_its_key()
    {
        var e = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.Profile = "cloud";
            o.Silo.GatewayPort = 70000;
        }));
        Assert.Contains(e.Failures, f => f.Contains("Freshet:Silo:Profile: 'cloud' is not a profile", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("Freshet:Silo:GatewayPort: 70000 is not a TCP port", StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_client_setting_is_refused_naming_its_key()
    {
        ArgumentException Refused(Action<FreshetClientOptions> configure) =>
            Assert.Throws<ArgumentException>(() => Host.CreateApplicationBuilder([]).AddFreshetClient(configure));
        Assert.Contains("Freshet:Client:GatewayPorts: 70000 is not a TCP port", Refused(o => o.GatewayPorts = [30000, 70000]).Message);
        Assert.Contains("Freshet:Client:GatewayPorts: the list is empty", Refused(o => o.GatewayPorts = []).Message);
        Assert.Contains("Freshet:Client:ScoringCallTimeout", Refused(o => o.ScoringCallTimeout = TimeSpan.Zero).Message);
    }

    [Fact]
    public async Task A_local_client_given_two_gateways_keeps_scoring_when_one_silo_stops()
    {
        // Two silos, each serving; the client knows both gateways and goes on through the other when one is gone.
        var clusterId = "gw-" + Guid.NewGuid().ToString("N")[..8];
        int firstPort = TestPorts.Free(), firstGateway = TestPorts.Free(), secondGateway = TestPorts.Free();
        using var first = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = firstPort;
            o.Silo.GatewayPort = firstGateway;
            o.Silo.ClusterId = clusterId;
        }).Build();
        await first.StartAsync();
        using var second = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = TestPorts.Free();
            o.Silo.GatewayPort = secondGateway;
            o.Silo.ClusterId = clusterId;
            o.Silo.PrimarySiloPort = firstPort;
        }).Build();
        await second.StartAsync();
        var b = Host.CreateApplicationBuilder([]);
        b.AddFreshetClient(o =>
        {
            o.GatewayPorts = [secondGateway, firstGateway];
            o.ClusterId = clusterId;
        });
        using var app = b.Build();
        await app.StartAsync();
        var client = app.Services.GetRequiredService<FreshetClient>();
        var retries = 0;
        client.Retrying += _ => Interlocked.Increment(ref retries);
        Assert.Equal(2, (await client.GetSilosAsync()).Count);
        // Silos without a model answer a request error: the call reached a silo and came back, which is what is checked.
        await Assert.ThrowsAsync<Freshet.Serving.ScoringRequestException>(() => client.ScoreAsync("none", [new Freshet.Serving.ScoreRow { Values = new Dictionary<string, string> { ["a"] = "b" } }]));
        await second.StopAsync();
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<Freshet.Serving.ScoringRequestException>(() => client.ScoreAsync("none", [new Freshet.Serving.ScoreRow { Values = new Dictionary<string, string> { ["a"] = "b" } }]));
        }
        await app.StopAsync();
        await first.StopAsync();
    }

    [Fact]
    public void Settings_come_from_configuration()
    {
        var e = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder(["--Freshet:Silo:SiloPort=0"]));
        Assert.Contains(e.Failures, f => f.Contains("Freshet:Silo:SiloPort: 0", StringComparison.Ordinal));
    }

    private static readonly string[] Azure =
    [
        "--Freshet:Silo:Profile=azure", "--Freshet:Silo:BlobEndpoint=https://acct.blob.core.windows.net/",
        "--Freshet:Silo:TableEndpoint=https://acct.table.core.windows.net/", "--Freshet:Silo:EventHubsNamespace=evhns-freshet.servicebus.windows.net",
    ];

    [Fact]
    public void The_azure_profile_binds_the_samples_hubs_and_jobs_and_trainers_read_samples_from_the_hubs_providers()
    {
        using var azure = FreshetSilo.CreateBuilder([.. Azure, "--Freshet:Silo:SampleJobs:shop-main=4", "--Freshet:Silo:CvrSamplesHub=conversions"]).Build();
        var o = azure.Services.GetRequiredService<IOptions<Grains.Hosting.AzureProfileOptions>>().Value;
        Assert.Equal("ctr-samples", o.CtrSamplesHub);
        Assert.Equal("conversions", o.CvrSamplesHub);
        Assert.Equal(4, o.SampleJobs["shop-main"]);
        Assert.Equal(Grains.Streaming.SampleStreamProviders.EventHubs, azure.Services.GetRequiredService<Grains.Streaming.SampleStreamProviders>());
        // The samples hubs' receivers start where Freshet's hub checkpoints say (a restore can rewind them); the other hubs keep Orleans' table checkpointer.
        foreach (var provider in new[] { Grains.Streaming.SampleStreamProviders.CtrSamples, Grains.Streaming.SampleStreamProviders.CvrSamples })
        {
            Assert.Equal("HubCheckpointerFactory", azure.Services.GetRequiredKeyedService<Orleans.Streams.IStreamQueueCheckpointerFactory>(provider).GetType().Name);
        }
        Assert.NotEqual("HubCheckpointerFactory", azure.Services.GetRequiredKeyedService<Orleans.Streams.IStreamQueueCheckpointerFactory>(FreshetNames.StreamProvider).GetType().Name);
        Assert.NotNull(azure.Services.GetRequiredService<Grains.Streaming.SampleHubRewinder>());

        using var local = FreshetSilo.CreateBuilder([]).Build();
        Assert.Null(local.Services.GetService<Grains.Streaming.SampleHubRewinder>()); // memory streams cannot be read again
        var providers = local.Services.GetRequiredService<Grains.Streaming.SampleStreamProviders>();
        Assert.Equal([FreshetNames.StreamProvider], providers.For(Freshet.Model.Data.TaskKind.Ctr));
        Assert.Equal([FreshetNames.StreamProvider], providers.For(Freshet.Model.Data.TaskKind.Cvr));
    }

    [Fact]
    public void Bad_samples_hub_settings_fail_the_start_naming_their_keys()
    {
        var same = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([.. Azure, "--Freshet:Silo:CvrSamplesHub=ctr-samples", "--Freshet:Silo:SampleJobs:shop-main=0"]));
        Assert.Contains(same.Failures, f => f.StartsWith("Freshet:Silo:CvrSamplesHub: 'ctr-samples' is also CtrSamplesHub", StringComparison.Ordinal));
        Assert.Contains(same.Failures, f => f.StartsWith("Freshet:Silo:SampleJobs:shop-main: 0 is not a trainer count", StringComparison.Ordinal));

        var shared = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([.. Azure, "--Freshet:Silo:CtrSamplesHub=weights", "--Freshet:Silo:CvrSamplesHub="]));
        Assert.Contains(shared.Failures, f => f.StartsWith("Freshet:Silo:CtrSamplesHub: 'weights' is also StreamsHub", StringComparison.Ordinal));
        Assert.Contains(shared.Failures, f => f.StartsWith("Freshet:Silo:CvrSamplesHub: must name the Event Hub", StringComparison.Ordinal));

        // The local profile has no samples hubs: their settings are not checked there.
        using var local = FreshetSilo.CreateBuilder(["--Freshet:Silo:CtrSamplesHub="]).Build();
    }
}
