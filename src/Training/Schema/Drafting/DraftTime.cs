namespace Freshet.Model.Schema.Drafting;

/// <summary>The event time of the draft: its column (null for <c>row-order</c>) and format, and the span of the rows read.</summary>
public sealed record DraftTime(
    string? Column,
    string Format,
    int Parsed,
    int Rows,
    DateTime? First,
    DateTime? Last,
    string Why);
