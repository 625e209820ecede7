using System.Text;
using Freshet.Model.Schema;

namespace Freshet.Model.Data;

/// <summary>
/// Reads a delimited text log as the schema describes it, in event-time order. The file is
/// streamed: a first pass reads each line's time and sorts lines in bounded chunks (see
/// <see cref="EventTimeSorter"/>); <c>source.sorted</c> skips the sort for logs already in order.
/// </summary>
public sealed class DelimitedRowSource : IRowSource
{
    private readonly FeatureSchema _schema;
    private readonly LineSplitter _splitter;
    private readonly TimeParser _time;
    private readonly int _timeIndex;
    private readonly bool _skipFirstLine;
    private readonly int _chunkLines;
    private readonly long _rowOrigin;

    public DelimitedRowSource(FeatureSchema schema, string file, int chunkLines = EventTimeSorter.DefaultChunkLines)
    {
        _schema = schema;
        Path = file;
        Folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file));
        _chunkLines = chunkLines;
        var src = schema.Source;
        _splitter = new LineSplitter(src.Delimiter, src.Quote);
        _time = new TimeParser(schema.Time!.Format);
        ColumnNames = ReadColumnNames(schema, file, _splitter);
        _skipFirstLine = src.Header;
        if (schema.Time.Format == TimeSpec.RowOrder)
        {
            _timeIndex = -1;
            _rowOrigin = schema.Time.Origin is { } origin
                ? DateTimeOffset.Parse(origin, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal).UtcTicks
                : new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        }
        else
        {
            _timeIndex = ResolveColumn(ColumnNames, schema.Time.Column, "time.column", file);
        }
    }

    public string Path { get; }

    public string? Folder { get; }

    public IReadOnlyList<string> ColumnNames { get; }

    public string Description => Path;

    public IEnumerable<RawRow> Read(BadRows bad, CancellationToken cancellationToken = default)
    {
        var timed = TimedLines(bad, cancellationToken);
        var ordered = _schema.Source.Sorted || _timeIndex < 0 ? timed : EventTimeSorter.Sort(timed, _chunkLines, cancellationToken);
        foreach (var line in ordered)
        {
            // Column counts were checked in the first pass.
            yield return new RawRow(Path, line.Line, line.Time, _splitter.Split(line.Text));
        }
    }

    /// <summary>First pass: every data line with its event time; lines whose time cannot be read are reported and dropped.</summary>
    private IEnumerable<EventTimeSorter.TimedLine> TimedLines(BadRows bad, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(Path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
        long lineNo = 0;
        long dataRows = 0;
        var expected = ColumnNames.Count;
        while (reader.ReadLine() is { } text)
        {
            lineNo++;
            if ((lineNo & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            if (lineNo == 1 && _skipFirstLine) continue;
            if (text.Length == 0 || (text.Length == 1 && text[0] == '\r')) continue;
            if (text[^1] == '\r') text = text[..^1];
            var cols = _splitter.Split(text);
            if (cols.Length != expected)
            {
                bad.Report(Path, lineNo, "columns", $"expected {expected} columns separated by '{Escape(_schema.Source.Delimiter)}', found {cols.Length}");
                continue;
            }
            if (_timeIndex < 0)
            {
                yield return new EventTimeSorter.TimedLine(_rowOrigin + dataRows++ * TimeSpan.TicksPerSecond, lineNo, text);
                continue;
            }
            var t = cols[_timeIndex];
            if (!_time.TryParse(t, out var ticks))
            {
                bad.Report(Path, lineNo, "time", $"column '{ColumnNames[_timeIndex]}': '{Truncate(t)}' is not a time in format '{_time.Format}'");
                continue;
            }
            yield return new EventTimeSorter.TimedLine(ticks, lineNo, text);
        }
    }

    internal static IReadOnlyList<string> ReadColumnNames(FeatureSchema schema, string file, LineSplitter splitter)
    {
        var src = schema.Source;
        List<string> names;
        if (src.Header)
        {
            string? first;
            using (var r = new StreamReader(file, Encoding.UTF8, true))
            {
                first = r.ReadLine();
            }
            if (first is null)
            {
                throw new SchemaException($"{file} is empty; the schema expects a header line");
            }
            names = [.. splitter.Split(first.TrimEnd('\r')).Select(n => n.Trim())];
            if (src.Columns is { Count: > 0 })
            {
                if (src.Columns.Count != names.Count)
                {
                    throw new SchemaException($"source.columns names {src.Columns.Count} columns but the header of {file} has {names.Count} ({string.Join(", ", names)})");
                }
                names = [.. src.Columns];
            }
        }
        else if (src.Columns is { Count: > 0 })
        {
            names = [.. src.Columns];
        }
        else
        {
            // No header and no names: columns are #0, #1, ... as many as the first line has.
            string? first;
            using (var r = new StreamReader(file, Encoding.UTF8, true))
            {
                first = r.ReadLine();
            }
            var count = first is null ? 0 : splitter.Split(first.TrimEnd('\r')).Length;
            names = [.. Enumerable.Range(0, count).Select(i => "#" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        }
        foreach (var (from, to) in src.Rename ?? [])
        {
            var i = names.IndexOf(from);
            if (i < 0)
            {
                throw new SchemaException($"source.rename: '{from}' is not a column of {file} (columns: {string.Join(", ", names)})");
            }
            names[i] = to;
        }
        return names;
    }

    /// <summary>Index of a column named by a schema entry (<c>name</c>, <c>name:type</c> or <c>#index</c>).</summary>
    public static int ResolveColumn(IReadOnlyList<string> names, string reference, string schemaKey, string where)
    {
        var c = ColumnRef.Parse(reference);
        if (c.Index is { } i)
        {
            if (i < 0 || i >= names.Count)
            {
                throw new SchemaException($"{schemaKey}: column #{i} does not exist; {where} has {names.Count} columns (#0..#{names.Count - 1})");
            }
            return i;
        }
        for (var k = 0; k < names.Count; k++)
        {
            if (names[k] == c.Name) return k;
        }
        throw new SchemaException($"{schemaKey}: column '{c.Name}' is not in {where} (columns: {string.Join(", ", names)}){c.NotFoundHint(names)}");
    }

    private static string Escape(string d) => d.Replace("\t", "\\t", StringComparison.Ordinal);

    internal static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
