
namespace Freshet.Grains.Feedback;

/// <summary>
/// What serving answered for one row, and with which weights; with the good weights' CTR and version when the call was
/// shadow-scored (else NaN and null), and the row's scoring time (UTC ticks), from which its click window closes.
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Grains.Feedback.ServedAnswer")]
public readonly record struct ServedAnswer(
    [property: Id(0)] float Ctr, [property: Id(1)] float Cvr, [property: Id(2)] Freshet.Model.Serving.WeightsVersion Weights, [property: Id(3)] float ShadowCtr = float.NaN,
    [property: Id(4)] Freshet.Model.Serving.WeightsVersion? Shadow = null, [property: Id(5)] long Scored = 0);
