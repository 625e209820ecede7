namespace Freshet.Model.Schema.Drafting;

/// <summary>What <see cref="SchemaDrafter"/> reads and what the user already knows about the log.</summary>
public sealed record DraftOptions
{
    public const int DefaultRows = 20_000;

    /// <summary>The log file.</summary>
    public required string Data { get; init; }

    /// <summary>Data rows read from the top of the file.</summary>
    public int Rows { get; init; } = DefaultRows;

    public IReadOnlyList<LabelRequest> Labels { get; init; } = [];

    /// <summary>The event-time column (name, <c>#index</c> or reference); detected when null.</summary>
    public string? Time { get; init; }

    /// <summary>The event-time format (as <c>time.format</c>); detected when null.</summary>
    public string? TimeFormat { get; init; }

    /// <summary>The delimiter; detected among comma, tab, semicolon, pipe and <c>::</c> when null.</summary>
    public string? Delimiter { get; init; }

    /// <summary>Whether the first line is a header; detected when null.</summary>
    public bool? Header { get; init; }

    /// <summary>Column names for a log without a header (or to replace the header's).</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>The schema's (model's) name; the file name by default.</summary>
    public string? Name { get; init; }
}
