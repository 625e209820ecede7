using Freshet.Model.Schema;

namespace Freshet.Model.Embeddings;

/// <summary>All rows of a table (or of one shard of it) with optimizer state, as stored in a checkpoint shard file.</summary>
public sealed record TableSnapshot(
    string Table,
    int Dim,
    int StateWidth,
    SparseOptimizerKind Optimizer,
    ulong[] Ids,
    float[] Weights,
    float[] State,
    long[] LastSeen,
    int[] Steps);
