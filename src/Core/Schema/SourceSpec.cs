using Freshet.Model.Synthetic;

namespace Freshet.Model.Schema;

/// <summary>Where the rows come from and how they are split into columns.</summary>
public sealed class SourceSpec
{
    /// <summary><c>delimited</c> (a text log) or <c>synthetic</c> (the built-in generator).</summary>
    public string Format { get; set; } = "delimited";

    /// <summary>The log file, relative to <c>--data</c> when that is a folder.</summary>
    public string? File { get; set; }

    public string Delimiter { get; set; } = ",";

    public bool Header { get; set; } = true;

    /// <summary>Column names: required without a header; with a header they replace its names.</summary>
    public List<string>? Columns { get; set; }

    /// <summary>Header names to rename (e.g. a header whose first name carries stray bytes).</summary>
    public Dictionary<string, string>? Rename { get; set; }

    /// <summary>Quote character of quoted fields (none by default).</summary>
    public string? Quote { get; set; }

    /// <summary>The file is already in event-time order: read it straight through, without sorting.</summary>
    public bool Sorted { get; set; }

    public ExplodeSpec? Explode { get; set; }

    public List<LookupSpec>? Lookups { get; set; }

    public BadRowPolicy BadRows { get; set; } = BadRowPolicy.Skip;

    /// <summary>Parameters of the synthetic generator (format <c>synthetic</c>).</summary>
    public SyntheticOptions? Synthetic { get; set; }
}
