
namespace Freshet.Grains.Feedback;

[GenerateSerializer, Alias("Freshet.Grains.Feedback.JoinerCounts")]
public sealed class JoinerCounts
{
    [Id(0)] public long Predictions { get; set; }
    [Id(3)] public long CtrSamples { get; set; }
    [Id(4)] public long CvrSamples { get; set; }
}
