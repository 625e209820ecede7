namespace Freshet.Model.Schema;

/// <summary>One embedding table as the schema defines it: shared by the fields that name it.</summary>
public sealed record TableSpec(
    string Name,
    int Dim,
    Tier Tier,
    int MinCount,
    TimeSpan? ExpireAfter,
    long? MaxRows,
    SparseOptimizerKind Optimizer,
    float LearningRate);
