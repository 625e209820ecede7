namespace Freshet.Model.Data;

/// <summary>Rows of a log in event-time order, with their column names.</summary>
public interface IRowSource
{
    /// <summary>Names of the columns of every row.</summary>
    IReadOnlyList<string> ColumnNames { get; }

    /// <summary>What is read, for messages (a file path, or the generator and its seed).</summary>
    string Description { get; }

    /// <summary>Folder in which side files (lookups) are found.</summary>
    string? Folder { get; }

    /// <summary>Streams the rows in event-time order; rows that cannot be read go to <paramref name="bad"/>.</summary>
    IEnumerable<RawRow> Read(BadRows bad, CancellationToken cancellationToken = default);
}
