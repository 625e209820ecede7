namespace Freshet.Model.Data;

/// <summary>One line of a log, split into columns, with where it came from and its event time.</summary>
public sealed record RawRow(string File, long Line, long Time, string[] Columns);
