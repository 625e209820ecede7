using Freshet.Model.Serving;

namespace Freshet.Serving;

/// <summary>A row's predictions and the weights that made them.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.Prediction")]
public sealed record Prediction
{
    [Id(0)] public float Ctr { get; init; }
    [Id(1)] public float Cvr { get; init; }

    /// <summary>pCTCVR = pCTR x pCVR.</summary>
    [Id(2)] public float Ctcvr { get; init; }

    /// <summary>The weights that made the prediction: the full checkpoint they start from and the last delta applied on it.</summary>
    [Id(3)] public WeightsVersion Weights { get; init; }

    /// <summary>How old the weights are: now minus the snapshot time of the last delta (or the checkpoint).</summary>
    [Id(5)] public TimeSpan WeightsAge { get; init; }

    /// <summary>
    /// Names this answer, for labels reported later (<c>FreshetClient.ReportAsync</c>). Serving logs the row for its
    /// joiner when the model's deployment has a feedback loop; otherwise the id is still unique but nothing waits for it.
    /// </summary>
    [Id(6)] public Feedback.PredictionId Id { get; init; }
}
