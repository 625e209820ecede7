using Freshet.Hosting;
using Freshet.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Freshet.Silo;

/// <summary>
/// A silo's settings, one options class per concern, each bound from <c>Freshet:Silo</c> and checked by its own
/// <see cref="IValidateOptions{TOptions}"/>: the silo in its cluster, the profile's providers (only the chosen
/// profile's are checked), TLS, HTTP, telemetry. The host is composed from them, so they are checked when the
/// builder is made (a bad value stops the start before anything listens), and the container gets those same
/// checked values (<see cref="Register"/>).
/// </summary>
public sealed class FreshetSiloOptions
{
    public SiloOptions Silo { get; init; } = new();

    public LocalProfileOptions Local { get; init; } = new();

    public AzuriteProfileOptions Azurite { get; init; } = new();

    public AzureProfileOptions Azure { get; init; } = new();

    public SiloTlsOptions Tls { get; init; } = new();

    public SiloHttpOptions Http { get; init; } = new();

    public SiloTelemetryOptions Telemetry { get; init; } = new();

    public SiloLimitsOptions Limits { get; init; } = new();

    /// <summary>Every key the section takes (the settings a deployment may set as <c>Freshet__Silo__KEY</c>).</summary>
    public static IReadOnlySet<string> Keys { get; } = new[]
    {
        typeof(SiloOptions), typeof(LocalProfileOptions), typeof(AzuriteProfileOptions), typeof(AzureProfileOptions),
        typeof(SiloTlsOptions), typeof(SiloHttpOptions), typeof(SiloTelemetryOptions), typeof(SiloLimitsOptions),
    }.SelectMany(t => t.GetProperties().Where(p => p.CanWrite).Select(p => p.Name)).ToHashSet(StringComparer.Ordinal);

    public static FreshetSiloOptions Bind(IConfiguration configuration)
    {
        var section = configuration.GetSection(SiloOptions.Section);
        T Get<T>() where T : new() => section.Get<T>() ?? new T();
        return new FreshetSiloOptions
        {
            Silo = Get<SiloOptions>(), Local = Get<LocalProfileOptions>(), Azurite = Get<AzuriteProfileOptions>(), Azure = Get<AzureProfileOptions>(),
            Tls = Get<SiloTlsOptions>(), Http = Get<SiloHttpOptions>(), Telemetry = Get<SiloTelemetryOptions>(), Limits = Get<SiloLimitsOptions>(),
        };
    }

    /// <summary>Every problem of every concern that applies (the chosen profile's, not the others'), each naming its key.</summary>
    public IReadOnlyList<string> Problems() =>
    [
        .. Failures(new SiloOptionsValidator(), Silo),
        .. (FreshetProfiles.TryParse(Silo.Profile, out var profile) ? profile : (FreshetProfile?)null) switch
        {
            FreshetProfile.Local => Failures(new LocalProfileOptionsValidator(), Local),
            FreshetProfile.Azurite => Failures(new AzuriteProfileOptionsValidator(), Azurite),
            FreshetProfile.Azure => Failures(new AzureProfileOptionsValidator(Azurite.StorageConnectionString), Azure),
            _ => [],
        },
        .. Failures(new SiloTlsOptionsValidator(), Tls),
        .. Failures(new SiloHttpOptionsValidator(Silo), Http),
        .. Failures(new SiloLimitsOptionsValidator(), Limits),
    ];

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new OptionsValidationException(SiloOptions.Section, typeof(FreshetSiloOptions), problems);
    }

    /// <summary>
    /// Puts the host's concerns in the container as the values the host was composed from (not a second binding
    /// that could differ from them); the profile's options are registered by the builder extension that takes them.
    /// </summary>
    public void Register(IServiceCollection services)
    {
        services.AddSingleton(Options.Create(Silo));
        services.AddSingleton(Options.Create(Tls));
        services.AddSingleton(Options.Create(Http));
        services.AddSingleton(Options.Create(Telemetry));
        services.AddSingleton(Options.Create(Limits));
    }

    private static IEnumerable<string> Failures<T>(IValidateOptions<T> validator, T value) where T : class =>
        validator.Validate(Options.DefaultName, value) is { Failed: true } r ? r.Failures ?? [] : [];
}
