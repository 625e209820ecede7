namespace Freshet.Model.Schema;

/// <summary>
/// A bag pooled by target attention (<see cref="BagPooling.Attention"/>): its values' rows sit one per slot in the input's
/// last columns (<paramref name="Length"/> rows of <paramref name="Width"/>, then one mask column per slot, 1 where a
/// value is), the candidate's row at <paramref name="TargetOffset"/>, and the towers write the pooled row over the bag's
/// own columns at <paramref name="Offset"/>, which the gather leaves at 0.
/// </summary>
/// <param name="Bag">The field's index in <see cref="FeatureLayout.BagFields"/>.</param>
/// <param name="Offset">The bag's own columns, where the pooled row goes.</param>
/// <param name="Width">The table's row width.</param>
/// <param name="TargetOffset">The candidate id field's columns.</param>
/// <param name="SlotsOffset">The first slot's first column.</param>
/// <param name="Length">Slots: the most recent values kept (a bag's last ones).</param>
public sealed record AttentionSlot(int Bag, int Offset, int Width, int TargetOffset, int SlotsOffset, int Length)
{
    /// <summary>Input columns the slots take: each slot's row and its mask.</summary>
    public int Columns => Length * (Width + 1);

    /// <summary>The first mask column.</summary>
    public int MaskOffset => SlotsOffset + Length * Width;
}
