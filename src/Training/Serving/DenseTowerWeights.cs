using Freshet.Model.Data;

namespace Freshet.Model.Serving;

/// <summary>One tower's weights (parameter order) and batch-norm buffers (raw), as a delta carries them.</summary>
public sealed record DenseTowerWeights(TaskKind Task, float[] Parameters, byte[] Buffers);
