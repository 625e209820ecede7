using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace Freshet.Grains.Hosting;

/// <summary>Registers what a Freshet silo needs on an Orleans silo builder.</summary>
public static class FreshetSiloBuilderExtensions
{
    /// <summary>
    /// The local profile's providers: in-memory grain storage and memory streams. (Azure Table,
    /// Blob and Queue providers come with the azurite and azure profiles.)
    /// </summary>
    public static ISiloBuilder AddFreshetLocalProviders(this ISiloBuilder silo)
    {
        silo.AddMemoryGrainStorage(FreshetNames.GrainStorage);
        silo.AddMemoryGrainStorage(FreshetNames.PubSubStorage);
        silo.AddMemoryStreams(FreshetNames.StreamProvider);
        silo.Services.AddSingleton(TimeProvider.System);
        return silo;
    }
}
