namespace Freshet.Model.Schema;

/// <summary>
/// One embedding table as the schema defines it: shared by the fields that name it. <see cref="LearningRate"/> is
/// FTRL's alpha for an FTRL table; <see cref="InitScale"/>, when set, overrides the model's (0: rows start at zero).
/// </summary>
public sealed record TableSpec(
    string Name,
    int Dim,
    Tier Tier,
    int MinCount,
    TimeSpan? ExpireAfter,
    long? MaxRows,
    SparseOptimizerKind Optimizer,
    float LearningRate,
    float? InitScale = null);
