namespace Freshet.Grains.Persistence;

/// <summary>One piece of a chunked binary grain state.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Persistence.StateChunk")]
public sealed class StateChunk
{
    [Id(0)] public byte[] Data { get; set; } = [];
}
