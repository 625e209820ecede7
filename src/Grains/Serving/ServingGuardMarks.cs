using Freshet.Model.Serving;

namespace Freshet.Grains.Serving;

/// <summary>The guard's marks for serving (see <see cref="IServingVersionGrain"/>).</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Grains.Serving.ServingGuardMarks")]
public sealed record ServingGuardMarks
{
    [Id(0)] public WeightsVersion? Good { get; init; }
    [Id(1)] public WeightsVersion? Halt { get; init; }
}
