namespace Freshet.Jobs;

/// <summary>What a trainer took off its streams from one publisher (<see cref="ITrainerGrain.GetDeliveredAsync"/>).</summary>
/// <param name="Delivered">Samples of the publisher's batches the trainer has taken off its streams since it started.</param>
/// <param name="Error">Why the trainer stopped, if it failed; null while it trains.</param>
[GenerateSerializer, Immutable, Alias("freshet.producer-progress")]
public sealed record ProducerProgress([property: Id(0)] long Delivered, [property: Id(1)] string? Error);
