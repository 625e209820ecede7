namespace Freshet.Parameters;

/// <summary>One table's summed row gradients of a step: ids (uint64) and gradients (float32, ids x dim).</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.TableGradients")]
public sealed record TableGradients
{
    [Id(0)] public int Index { get; init; }
    [Id(1)] public byte[] Ids { get; init; } = [];
    [Id(2)] public byte[] Gradients { get; init; } = [];
}
