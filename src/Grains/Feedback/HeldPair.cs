using Freshet.Model.Serving;

namespace Freshet.Grains.Feedback;

/// <summary>
/// A shadowed impression clicked before its click window closed: its two log-losses, held until the window closes
/// (<paramref name="Deadline"/>, UTC ticks) and then added to the pair (<paramref name="Served"/>, <paramref name="Shadow"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Grains.Feedback.HeldPair")]
public readonly record struct HeldPair(
    [property: Id(0)] long Deadline, [property: Id(1)] WeightsVersion Served, [property: Id(2)] WeightsVersion Shadow,
    [property: Id(3)] double ServedLoss, [property: Id(4)] double GoodLoss);
