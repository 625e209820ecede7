using Freshet.Model.Data;

namespace Freshet.Parameters;

/// <summary>One tower's gradients (float32, parameter order) and the batch-norm buffers after the step's forward pass.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Parameters.DensePush")]
public sealed record DensePush
{
    [Id(0)] public string Trainer { get; init; } = "";
    [Id(1)] public long Step { get; init; }
    [Id(2)] public TaskKind Task { get; init; }
    [Id(3)] public byte[] Gradients { get; init; } = [];
    [Id(4)] public byte[] Buffers { get; init; } = [];

    /// <summary>The batch's positive rate (a tower's first step starts its output bias there).</summary>
    [Id(5)] public double LabelRate { get; init; }

    /// <summary>
    /// The buffers the step's forward pass started from (the trainer's copy of the tier's). The dense grain adds
    /// <see cref="Buffers"/> minus these to its own, so several trainers' batches all count; empty: replace.
    /// </summary>
    [Id(6)] public byte[] BuffersBase { get; init; } = [];
}
