namespace Freshet.Model.Schema;

/// <summary>Transform applied to a numeric field before it enters the towers.</summary>
public enum NumericTransform
{
    None,

    /// <summary>sign(x) * log(1 + |x|): tames heavy-tailed counts and prices.</summary>
    Log1p,

    /// <summary>(x - mean) / std, with the running mean and deviation of the values seen so far.</summary>
    Standardize,
}
