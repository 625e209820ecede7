namespace Freshet.Model.Schema.Drafting;

/// <summary>A drafted schema: its JSON (which <see cref="SchemaLoader"/> has accepted), and what it was inferred from and why.</summary>
public sealed class SchemaDraft
{
    /// <summary>The schema as JSON text, ready to write to a file.</summary>
    public required string Json { get; init; }

    /// <summary>The schema as the loader read it back.</summary>
    public required FeatureSchema Schema { get; init; }

    /// <summary>The log file read.</summary>
    public required string File { get; init; }

    /// <summary>Data rows read (header excluded).</summary>
    public required int Rows { get; init; }

    /// <summary>Whether the file has rows beyond those read.</summary>
    public required bool MoreRows { get; init; }

    public required string Delimiter { get; init; }

    public required bool Header { get; init; }

    /// <summary>Column names as the reader sees them (<c>#0</c>, <c>#1</c>, ... without a header or names).</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>Rows read whose column count differs from the first row's: the reader will skip them.</summary>
    public required int BadRows { get; init; }

    public required DraftTime Time { get; init; }

    public required IReadOnlyList<DraftLabel> Labels { get; init; }

    public required IReadOnlyList<DraftField> Fields { get; init; }

    public required IReadOnlyList<DraftRefusal> Refused { get; init; }

    /// <summary>The reasoning, one line per decision, for a person to read.</summary>
    public required IReadOnlyList<string> Explanation { get; init; }
}
