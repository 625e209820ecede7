namespace Freshet.Model.Schema.Drafting;

/// <summary>A label of the draft: the rule it became, how often it is positive in the rows read, and where it came from.</summary>
public sealed record DraftLabel(
    string Task,
    string Column,
    LabelRule Rule,
    int Positives,
    int Rows,
    string Why);
