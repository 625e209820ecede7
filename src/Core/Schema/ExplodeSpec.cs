namespace Freshet.Model.Schema;

/// <summary>
/// Turns one row into one row per item of a list column, each item carrying its own label
/// after a separator (MIND: <c>N123-1 N456-0</c>).
/// </summary>
public sealed class ExplodeSpec
{
    public string Column { get; set; } = "";

    /// <summary>Separator between items (default a space).</summary>
    public string Separator { get; set; } = " ";

    /// <summary>Separator between an item and its label suffix; the last occurrence counts. Null: items have no label.</summary>
    public string? LabelSeparator { get; set; }

    /// <summary>Name of the virtual column that holds the item.</summary>
    public string ItemColumn { get; set; } = "";

    /// <summary>Name of the virtual column that holds the item's label suffix.</summary>
    public string? LabelColumn { get; set; }

    /// <summary>
    /// Name of a virtual column that holds how many items the list had (the slate size: with one
    /// click per page, an item on a page of 5 is far likelier clicked than one on a page of 100).
    /// </summary>
    public string? CountColumn { get; set; }
}
