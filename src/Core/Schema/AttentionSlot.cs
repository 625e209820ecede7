namespace Freshet.Model.Schema;

/// <summary>
/// A bag pooled by target attention (<see cref="BagPooling.Attention"/>): its values' rows sit one per slot in the input's
/// last columns (<paramref name="Length"/> rows of <paramref name="Width"/>, then one mask column per slot, 1 where a
/// value is), the candidate's row at <paramref name="TargetOffset"/>, and the towers write the pooled row over the bag's
/// own columns at <paramref name="Offset"/>, which the gather leaves at 0. A sequence field's slots also take each value's
/// age (<see cref="AgeInput"/>), one column per slot after the masks, which the attention unit reads beside the rows.
/// </summary>
/// <param name="Bag">The field's index in <see cref="FeatureLayout.BagFields"/>.</param>
/// <param name="Offset">The bag's own columns, where the pooled row goes.</param>
/// <param name="Width">The table's row width.</param>
/// <param name="TargetOffset">The candidate id field's columns.</param>
/// <param name="SlotsOffset">The first slot's first column.</param>
/// <param name="Length">Slots: the most recent values kept (a bag's last ones).</param>
/// <param name="Ages">Whether each slot has an age column (a sequence field's values are events, and have ages).</param>
public sealed record AttentionSlot(int Bag, int Offset, int Width, int TargetOffset, int SlotsOffset, int Length, bool Ages = false)
{
    /// <summary>Input columns the slots take: each slot's row, its mask and, with ages, its age.</summary>
    public int Columns => Length * (Width + (Ages ? 2 : 1));

    /// <summary>The first mask column.</summary>
    public int MaskOffset => SlotsOffset + Length * Width;

    /// <summary>The first age column (with <see cref="Ages"/>).</summary>
    public int AgeOffset => MaskOffset + Length;

    /// <summary>
    /// A value's age as the towers read it: log(1 + minutes) / 8, so a minute, an hour, a day and a month are about 0.09,
    /// 0.51, 0.91 and 1.34 (a log scale keeps both a session's minutes and a month apart); negative or unknown ages read 0.
    /// </summary>
    public static float AgeInput(float seconds) => seconds > 0 ? MathF.Log(1 + seconds / 60f) / 8f : 0f;
}
