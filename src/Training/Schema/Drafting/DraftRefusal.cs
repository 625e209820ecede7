namespace Freshet.Model.Schema.Drafting;

/// <summary>A column the draft does not make a field of, and why.</summary>
public sealed record DraftRefusal(string Column, string Why);
