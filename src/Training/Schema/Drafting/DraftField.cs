namespace Freshet.Model.Schema.Drafting;

/// <summary>A field the draft proposes, with the figures it was chosen on and why.</summary>
public sealed record DraftField(
    string Name,
    string Column,
    FieldKind Kind,
    Tier? Tier,
    int? Dim,
    string? Table,
    NumericTransform? Transform,
    int Distinct,
    string Why,
    string? Separator = null);
