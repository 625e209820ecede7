using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Freshet.Model.Data;

namespace Freshet.Model.Schema.Drafting;

/// <summary>Reading the log's first rows as its reader will: the delimiter, the header, the column names.</summary>
public static partial class SchemaDrafter
{
    /// <summary>The rows read, split as the reader will split them, and how that was decided.</summary>
    private sealed record Table(string Delimiter, string DelimiterWhy, string? Quote, bool Header, string HeaderWhy, List<string> Names, List<string[]> Rows, int BadRows, bool More);

    private static Table ReadTable(DraftOptions o)
    {
        var file = o.Data;
        var lines = ReadLines(file, o.Rows + 1, out var more);
        var (delimiter, delimiterWhy) = o.Delimiter is { Length: > 0 } given ? (given, "given") : DetectDelimiter(file, lines);
        var quote = lines.Take(SniffLines).Any(l => l.Split(delimiter).Any(f => f.StartsWith('"'))) ? "\"" : null;
        var splitter = new LineSplitter(delimiter, quote);
        var split = lines.Select(l => splitter.Split(l)).ToList();
        var (header, headerWhy) = o.Header is { } h ? (h, "given") : DetectHeader(split);
        var width = header ? split[0].Length : Mode(split.Take(SniffLines).Select(r => r.Length));
        var rows = split.Skip(header ? 1 : 0).ToList();
        more |= rows.Count > o.Rows;
        if (rows.Count > o.Rows) rows.RemoveRange(o.Rows, rows.Count - o.Rows);
        var bad = rows.RemoveAll(r => r.Length != width);
        if (rows.Count == 0)
        {
            throw new SchemaException($"--data '{file}': no data rows with {width} columns{(header ? " below the header" : "")}; a draft needs rows to infer types from");
        }
        return new Table(delimiter, delimiterWhy, quote, header, headerWhy, ColumnNames(o, file, header, split[0], width), rows, bad, more);
    }

    private static List<string> ReadLines(string file, int max, out bool more)
    {
        if (Directory.Exists(file))
        {
            var inside = Directory.GetFiles(file).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(8).ToList();
            throw new SchemaException($"--data '{file}' is a folder; pass the log file itself{(inside.Count > 0 ? $" (it holds {string.Join(", ", inside)})" : "")}");
        }
        if (!File.Exists(file))
        {
            throw new SchemaException($"--data '{file}' does not exist; pass the log file to draft a schema for");
        }
        var lines = new List<string>();
        more = false;
        using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
            if (line.Length == 0) continue;
            if (lines.Count == max)
            {
                more = true;
                break;
            }
            lines.Add(line);
        }
        if (lines.Count == 0)
        {
            throw new SchemaException($"--data '{file}' is empty; a draft needs the log's rows (and its header, if it has one)");
        }
        return lines;
    }

    /// <summary>Other delimited files in the log's folder: candidates for lookups.</summary>
    private static List<string> SideFiles(string file)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        string[] kinds = [".csv", ".tsv", ".txt", ".dat", ".psv"];
        return [.. Directory.EnumerateFiles(folder).Where(f => kinds.Contains(Path.GetExtension(f).ToLowerInvariant()) && Path.GetFullPath(f) != Path.GetFullPath(file))
            .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).Take(5)];
    }

    private static (string Delimiter, string Why) DetectDelimiter(string file, List<string> lines)
    {
        var sniff = lines.Take(SniffLines).ToList();
        (string D, double Share, int Columns)? best = null;
        foreach (var d in Delimiters)
        {
            var splitter = new LineSplitter(d, "\"");
            var widths = sniff.Select(l => splitter.Split(l).Length).ToList();
            var mode = Mode(widths);
            var share = (double)widths.Count(w => w == mode) / widths.Count;
            if (mode < 2 || share < 0.9) continue;
            if (best is null || share > best.Value.Share + 1e-9 || (Math.Abs(share - best.Value.Share) < 1e-9 && mode > best.Value.Columns))
            {
                best = (d, share, mode);
            }
        }
        if (best is not { } b)
        {
            throw new SchemaException($"--data '{file}': no delimiter found: neither comma, tab, semicolon, pipe nor '::' splits the first lines into the same number of columns; pass --delimiter");
        }
        return (b.D, $"it splits {Pct(b.Share)} of the first {sniff.Count:N0} lines into {b.Columns} columns");
    }

    private static (bool Header, string Why) DetectHeader(List<string[]> split)
    {
        if (split.Count < 2)
        {
            return (false, "a single line: taken as data");
        }
        var first = split[0];
        var rest = split.Skip(1).Take(SniffLines).Where(r => r.Length == first.Length).ToList();
        if (rest.Count == 0)
        {
            return (true, $"the first line has {first.Length} fields and the next lines another number");
        }
        int named = 0, data = 0;
        for (var j = 0; j < first.Length; j++)
        {
            var cell = first[j].Trim();
            var column = rest.Select(r => r[j].Trim()).Where(v => v.Length > 0).ToList();
            if (column.Count == 0 || cell.Length == 0) continue;
            if (column.All(IsNumber))
            {
                if (IsNumber(cell)) data++;
                else named++;
            }
            else if (column.Contains(cell))
            {
                data++;
            }
            else if (!cell.Any(char.IsDigit) && column.Count(v => v.Any(char.IsDigit)) * 2 >= column.Count)
            {
                named++;
            }
        }
        if (named > data)
        {
            return (true, $"{named} of {first.Length} first-line values are names over columns of numbers or codes");
        }
        if (data > named)
        {
            return (false, $"the first line holds values like the rest in {data} of {first.Length} columns");
        }
        // Nothing tells: names are distinct words that never occur again in their column.
        var looksNamed = first.Distinct(StringComparer.Ordinal).Count() == first.Length && first.All(c => Regex.IsMatch(c.Trim(), "^[A-Za-z_][A-Za-z0-9_ .:-]*$"));
        return (looksNamed, looksNamed ? "the first line is distinct words that do not recur below" : "the first line does not look like names");
    }

    private static List<string> ColumnNames(DraftOptions o, string file, bool header, string[] first, int width)
    {
        if (o.Columns is { } given)
        {
            if (given.Count != width)
            {
                throw new SchemaException($"--columns names {given.Count} columns but the rows of {file} have {width}");
            }
            return [.. given.Select(c => c.Trim())];
        }
        if (header)
        {
            return [.. first.Select(c => c.Trim())];
        }
        return [.. Enumerable.Range(0, width).Select(j => "#" + j.ToString(CultureInfo.InvariantCulture))];
    }

    /// <summary>How the schema refers to column <paramref name="j"/>: its name, or its position when the name cannot be used.</summary>
    private static string Reference(List<string> names, int j)
    {
        var name = names[j];
        var usable = name.Length > 0 && names.IndexOf(name) == j && (ColumnRef.Parse(name).Index is null || name == "#" + j.ToString(CultureInfo.InvariantCulture));
        return usable ? ColumnRef.Format(name) : "#" + j.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The name part of a column's reference, to which a type may be added.</summary>
    private static string RefName(ColumnProfile p) => ColumnRef.Parse(p.Reference).Name;
}
