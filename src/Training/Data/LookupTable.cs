using System.Text;
using Freshet.Model.Schema;

namespace Freshet.Model.Data;

/// <summary>A side file held in memory by key (a dimension table such as MIND's news.tsv), keeping only the columns fields use.</summary>
public sealed class LookupTable
{
    private readonly Dictionary<string, string[]> _rows;

    private LookupTable(LookupSpec spec, IReadOnlyList<string> columns, Dictionary<string, string[]> rows)
    {
        Spec = spec;
        Columns = columns;
        _rows = rows;
    }

    public LookupSpec Spec { get; }

    /// <summary>Names of the kept columns, with the lookup's prefix.</summary>
    public IReadOnlyList<string> Columns { get; }

    public int Count => _rows.Count;

    public string[]? Find(string key) => _rows.GetValueOrDefault(key);

    /// <summary>Loads the side file, keeping the columns in <paramref name="wanted"/> (names with prefix).</summary>
    public static LookupTable Load(LookupSpec spec, string folder, ISet<string> wanted, BadRows bad, int index)
    {
        var path = Path.Combine(folder, spec.File);
        if (!File.Exists(path))
        {
            throw new SchemaException($"source.lookups[{index}].file: '{path}' does not exist (side files are found in the folder of the log, or in --data when it is a folder)");
        }
        var splitter = new LineSplitter(spec.Delimiter, null);
        List<string> names;
        using var reader = new StreamReader(path, Encoding.UTF8, true);
        long lineNo = 0;
        if (spec.Header)
        {
            var header = reader.ReadLine() ?? throw new SchemaException($"source.lookups[{index}]: {path} is empty; the schema expects a header");
            lineNo++;
            names = spec.Columns is { Count: > 0 } ? [.. spec.Columns] : [.. splitter.Split(header.TrimEnd('\r')).Select(x => x.Trim())];
        }
        else
        {
            names = [.. spec.Columns!];
        }
        var keyIndex = names.IndexOf(spec.Key);
        if (keyIndex < 0)
        {
            throw new SchemaException($"source.lookups[{index}].key: '{spec.Key}' is not a column of {path} (columns: {string.Join(", ", names)})");
        }
        var keep = new List<int>();
        var kept = new List<string>();
        for (var i = 0; i < names.Count; i++)
        {
            if (wanted.Contains(spec.Prefix + names[i]))
            {
                keep.Add(i);
                kept.Add(spec.Prefix + names[i]);
            }
        }
        var rows = new Dictionary<string, string[]>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var cols = splitter.Split(line.TrimEnd('\r'));
            if (cols.Length != names.Count)
            {
                bad.Report(path, lineNo, "columns", $"expected {names.Count} columns, found {cols.Length}");
                continue;
            }
            var values = new string[keep.Count];
            for (var k = 0; k < keep.Count; k++) values[k] = cols[keep[k]];
            rows[cols[keyIndex]] = values;
        }
        return new LookupTable(spec, kept, rows);
    }
}
