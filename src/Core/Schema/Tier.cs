namespace Freshet.Model.Schema;

/// <summary>How often a group of weights changes and reaches serving (DESIGN.md section 1).</summary>
[GenerateSerializer, Alias("freshet.tier")]
public enum Tier
{
    /// <summary>High-sparse id tables: trained by full-model jobs, shipped only in full checkpoints.</summary>
    Frozen,

    /// <summary>Less-sparse tables: always trained, shipped in every delta.</summary>
    Changing,

    /// <summary>MLP weights and batch-norm statistics: always trained, shipped in every delta.</summary>
    Dense,
}
