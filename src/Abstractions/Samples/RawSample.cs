namespace Freshet.Samples;

/// <summary>
/// One sample as a producer wrote it (plain JSON on a samples hub): event time, label and field values
/// as text, featurized by the trainer with its job's schema (the sender needs no schema).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Samples.RawSample")]
public sealed record RawSample
{
    /// <summary>Event time, UTC ticks.</summary>
    [Id(0)] public long Time { get; init; }

    /// <summary>1 for a click (CTR) or a conversion (CVR), else 0.</summary>
    [Id(1)] public float Label { get; init; }

    /// <summary>Field name (as in the schema's <c>fields[].name</c>) to value, as text.</summary>
    [Id(2)] public Dictionary<string, string> Fields { get; init; } = [];

    /// <summary>Where the row was in its event (0 for a single object): logs of a bad row name it.</summary>
    [Id(3)] public int Index { get; init; }
}
