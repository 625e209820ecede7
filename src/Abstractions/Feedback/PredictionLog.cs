using Freshet.Model.Serving;

namespace Freshet.Feedback;

/// <summary>Rows one serving call scored for one joiner: their ids, features (<c>SampleCodec</c>, as CTR samples at the scoring time) and answers.</summary>
[GenerateSerializer, Immutable, Alias("freshet.prediction-log")]
public sealed record PredictionLog
{
    [Id(0)] public Guid[] Ids { get; init; } = [];
    [Id(1)] public byte[] Samples { get; init; } = [];
    [Id(2)] public float[] Ctr { get; init; } = [];
    [Id(3)] public float[] Cvr { get; init; } = [];
    [Id(4)] public WeightsVersion Weights { get; init; }
    [Id(5)] public DateTime Time { get; init; }

    /// <summary>The good weights' CTR answers for the same rows when the call was shadow-scored (<see cref="GuardSpec"/>), else empty.</summary>
    [Id(6)] public float[] ShadowCtr { get; init; } = [];

    /// <summary>The good weights that gave <see cref="ShadowCtr"/>.</summary>
    [Id(7)] public WeightsVersion? Shadow { get; init; }
}
