namespace Freshet.Samples;

/// <summary>Samples on a <c>samples</c> stream, encoded as bytes; an end marker closes the stream for its trainer.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Samples.SampleBatch")]
public sealed record SampleBatch
{
    [Id(0)] public byte[] Payload { get; init; } = [];
    [Id(1)] public int Count { get; init; }

    /// <summary>No more samples will come on this stream.</summary>
    [Id(2)] public bool EndOfStream { get; init; }
}
