namespace Freshet.Model.Schema;

/// <summary>
/// A per-id bias of the stacking head: the id field it is keyed by (its position among the id fields), its table
/// (two columns: the CTR head's bias, the CVR head's) and its offset in the model input.
/// </summary>
public sealed record BiasSlot(int IdField, int TableIndex, int Offset)
{
    public const int Width = 2;

    /// <summary>The input column of <paramref name="task"/>'s bias.</summary>
    public int Column(Data.TaskKind task) => Offset + (task == Data.TaskKind.Ctr ? 0 : 1);
}
