using Freshet.Jobs;

namespace Freshet.Grains.Jobs;

/// <summary>A delta taken from the shards and not yet delivered (retained, recorded and sent), as a job keeps it in grain state.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Jobs.UnsentDelta")]
public sealed class UnsentDelta
{
    [Id(0)] public byte[] Encoded { get; set; } = [];
    [Id(1)] public PublishResult Result { get; set; } = new();
}
