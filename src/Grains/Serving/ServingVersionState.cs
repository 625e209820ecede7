using Freshet.Model.Serving;

namespace Freshet.Grains.Serving;

[GenerateSerializer, Alias("Freshet.Grains.Serving.ServingVersionState")]
public sealed class ServingVersionState
{
    [Id(0)] public long? Version { get; set; }
    [Id(1)] public WeightsVersion? Good { get; set; }
    [Id(2)] public WeightsVersion? Halt { get; set; }
}
