using Freshet.Model.Serving;

namespace Freshet.Grains.Jobs;

/// <summary>A delta a step of its delivery refused; it is kept and goes out first on the next publish.</summary>
public sealed class DeltaNotDeliveredException(WeightsVersion version, DeliveryStage stage, Exception inner)
    : Exception($"delta {version}: {Describe(stage)} failed", inner)
{
    public WeightsVersion Version { get; } = version;

    public DeliveryStage Stage { get; } = stage;

    /// <summary>The stage in words, as errors and meters name it.</summary>
    public static string Describe(DeliveryStage stage) => stage switch
    {
        DeliveryStage.Retain => "retaining it beside its base",
        DeliveryStage.Record => "recording it in the job's state",
        _ => "sending it on the weights stream",
    };
}
