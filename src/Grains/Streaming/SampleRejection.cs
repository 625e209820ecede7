namespace Freshet.Grains.Streaming;

/// <summary>
/// A row (or a whole event, <see cref="Row"/> -1) of a plain JSON sample event that was skipped: why
/// (<see cref="Reason"/>, low-cardinality: the metric's tag), which property, and how to fix it.
/// </summary>
public sealed record SampleRejection(int Row, string Reason, string? Field, string Message);
