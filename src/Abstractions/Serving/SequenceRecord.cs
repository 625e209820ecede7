
namespace Freshet.Serving;

/// <summary>One value a key recorded, at an event time.</summary>
[GenerateSerializer, Immutable, Alias("freshet.sequence-record")]
public readonly record struct SequenceRecord(
    [property: Id(0)] ulong Key,
    [property: Id(1)] ulong Value,
    [property: Id(2)] long Time);
