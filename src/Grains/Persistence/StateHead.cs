namespace Freshet.Grains.Persistence;

/// <summary>Which generation of chunks is current, how many, and their length and SHA-256.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Persistence.StateHead")]
public sealed class StateHead
{
    [Id(0)] public int Generation { get; set; }
    [Id(1)] public int Chunks { get; set; }
    [Id(2)] public long Length { get; set; }
    [Id(3)] public string Sha256 { get; set; } = "";
}
