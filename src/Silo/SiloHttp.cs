using Freshet.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Freshet.Silo;

/// <summary>
/// The silo's HTTP side (<see cref="SiloHttpOptions.HttpPort"/>): health endpoints for the orchestrator's
/// probes and, by option, the Orleans Dashboard. Without a port there is no HTTP server at all.
/// </summary>
public static class SiloHttp
{
    public const string Startup = "/health/startup";
    public const string Ready = "/health/ready";
    public const string Live = "/health/live";
    public const string Dashboard = "/dashboard";

    internal static void Add(WebApplicationBuilder builder, FreshetSiloOptions options)
    {
        if (options.Http.HttpPort is not { } port)
        {
            builder.Services.AddSingleton<IServer, NoServer>();
            return;
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (options.Silo.ProfileKind == FreshetProfile.Azure) k.ListenAnyIP(port);
            else k.ListenLocalhost(port);
        });
        builder.Services.AddHealthChecks()
            // Liveness is the process answering at all: it touches no storage and no other silo, so a storage
            // outage never makes the orchestrator kill every silo at once.
            .AddCheck("process", () => HealthCheckResult.Healthy("the silo process answers"), tags: ["live"])
            .AddCheck<SiloActiveCheck>("silo", tags: ["startup", "ready"])
            .AddCheck<ServingReadyCheck>("serving", tags: ["ready"]);
        builder.Services.AddSingleton<IStartupFilter>(new Endpoints(options.Http.Dashboard));
    }

    /// <summary>Maps the endpoints on the app the builder makes (callers only build and run the host).</summary>
    private sealed class Endpoints(bool dashboard) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.UseRouting();
            app.UseEndpoints(e =>
            {
                e.MapHealthChecks(Startup, new HealthCheckOptions { Predicate = c => c.Tags.Contains("startup") });
                e.MapHealthChecks(Ready, new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
                e.MapHealthChecks(Live, new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") });
                if (dashboard) Orleans.Dashboard.ServiceCollectionExtensions.MapOrleansDashboard(e, Dashboard);
            });
        };
    }

    /// <summary>Started and ready: this silo is active in the cluster's membership (it joined and is not shutting down).</summary>
    private sealed class SiloActiveCheck(IClusterMembershipService membership, ILocalSiloDetails silo, IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested) return Task.FromResult(HealthCheckResult.Unhealthy("the silo is shutting down"));
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return Task.FromResult(status == SiloStatus.Active
                ? HealthCheckResult.Healthy($"silo {silo.SiloAddress} is active")
                : HealthCheckResult.Unhealthy($"silo {silo.SiloAddress} is {status}"));
        }
    }

    /// <summary>
    /// Ready to serve: a serving silo has loaded the replica of every model serving follows (a model whose
    /// checkpoint is bad makes it degraded, still ready: every silo would refuse it alike).
    /// </summary>
    private sealed class ServingReadyCheck(Grains.Serving.ServingRegistry registry) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!registry.Warm)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("loading the serving replicas" + (registry.WarmUpProblem is { } p ? ": " + p : "")));
            }
            var errors = registry.WarmUpErrors;
            return Task.FromResult(errors.Count == 0
                ? HealthCheckResult.Healthy(registry.Roles.Serving ? "the serving replicas are loaded" : "not a serving silo")
                : HealthCheckResult.Degraded(string.Join("; ", errors.Select(e => $"model '{e.Key}' is not served: {e.Value}"))));
        }
    }

    /// <summary>No HTTP server: the host runs the silo only.</summary>
    private sealed class NoServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
