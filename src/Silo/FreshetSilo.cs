using System.Net;
using Freshet.Grains.Hosting;
using Freshet.Grains.Serving;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

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
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(c =>
            {
                c.ClusterId = options.ClusterId;
                c.ServiceId = options.ServiceId;
            });
            switch (options.Profile)
            {
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
}
