namespace Freshet.Model.Schema;

/// <summary>How an <c>ids</c> or <c>sequence</c> field's values become one input of the towers (<see cref="FieldSpec.Pooling"/>).</summary>
public enum BagPooling
{
    /// <summary>The mean of the values' embeddings.</summary>
    Mean,

    /// <summary>
    /// Target attention (DIN, Zhou et al., KDD 2018): each value is weighed by how it relates to the candidate (the
    /// field's <see cref="FieldSpec.Target"/>, an id field in the same table), through a small learned unit over
    /// [candidate, value, candidate x value, candidate - value]. The weights start at 1 (a mean) and are learned in
    /// the dense tier; a value's embedding trains through its own weight.
    /// </summary>
    Attention,
}
