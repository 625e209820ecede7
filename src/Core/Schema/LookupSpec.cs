namespace Freshet.Model.Schema;

/// <summary>A side file joined on a key (MIND: <c>news.tsv</c> for category and subcategory).</summary>
public sealed class LookupSpec
{
    public string File { get; set; } = "";

    public string Delimiter { get; set; } = ",";

    public bool Header { get; set; } = true;

    /// <summary>Column names of the side file (required without a header).</summary>
    public List<string>? Columns { get; set; }

    /// <summary>The side file's key column.</summary>
    public string Key { get; set; } = "";

    /// <summary>The main row's column matched against the key.</summary>
    public string On { get; set; } = "";

    /// <summary>Prefix of the side file's columns as seen by fields (default none).</summary>
    public string Prefix { get; set; } = "";
}
