namespace Freshet.Grains.Weights;

/// <summary>
/// A reader of a model's weights stream (a serving silo's replica): takes each message as the stream delivers it and acts
/// only on those the cluster's silos sealed (<see cref="WeightsChannel"/>). Silo code only; tests deliver to it directly.
/// </summary>
[Alias("Freshet.Grains.Weights.IWeightsReader")]
public interface IWeightsReader : IGrainWithStringKey
{
    [Alias("Deliver")] Task DeliverAsync(WeightMessage message);
}
