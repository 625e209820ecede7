using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Freshet.Model.Data;

namespace Freshet.Model.Schema.Drafting;

/// <summary>
/// Drafts a feature schema for a delimited log from its first rows: the delimiter, header and column
/// types, the event-time column and its format, the labels, and a field per usable column with its kind,
/// tier and dim, refusing the columns a streaming model must not learn from (time slots, clocks, row ids,
/// labels). Every decision comes with its reason. The draft has no <c>model</c> section, and is checked
/// by <see cref="SchemaLoader"/> and against the file before it is returned.
/// </summary>
public static partial class SchemaDrafter
{
    /// <summary>An id column with at least this many distinct values in the rows read is frozen-tier.</summary>
    public const int FrozenDistinct = 1_000;

    /// <summary>... or with a distinct value for at most this many rows.</summary>
    public const int FrozenRowsPerValue = 5;

    private const int SniffLines = 1_000;
    private static readonly string[] Delimiters = [",", "\t", ";", "|", "::"];
    private static readonly string[] ListSeparators = [" ", "|", ";", ","];
    private static readonly string[] LabelSeparators = ["-", ":", "_", "|", "="];

    /// <summary>Date-time formats tried, most specific first (all read as UTC).</summary>
    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd HH:mm", "yyyy/MM/dd HH:mm:ss",
        "M/d/yyyy h:mm:ss tt", "M/d/yyyy H:mm:ss", "d/M/yyyy H:mm:ss", "M/d/yyyy h:mm tt", "M/d/yyyy H:mm", "d/M/yyyy H:mm",
        "dd.MM.yyyy HH:mm:ss", "yyyyMMddHHmmss", "yyyyMMddHH", "yyMMddHH", "yyyy-MM-dd", "yyyy/MM/dd", "M/d/yyyy", "d/M/yyyy", "yyyyMMdd",
    ];

    /// <summary>Name words that denote a time slot: a column so named is never a feature.</summary>
    private static readonly HashSet<string> SlotWords = new(StringComparer.Ordinal)
    {
        "hour", "hours", "hod", "day", "dow", "weekday", "wday", "dayofweek", "hourofday", "dayofmonth", "doy", "dayofyear",
        "minute", "minutes", "month", "week", "weekofyear", "year", "quarter",
    };

    /// <summary>Name words of a clock: such a column is refused when its values read as times.</summary>
    private static readonly HashSet<string> ClockWords = new(StringComparer.Ordinal) { "time", "date", "ts", "timestamp", "datetime", "epoch", "created", "updated" };

    private static readonly HashSet<string> IdWords = new(StringComparer.Ordinal) { "id", "ids", "key", "uid", "uuid" };

    /// <summary>Name words of a quantity: an integer column so named is numeric rather than a category code.</summary>
    private static readonly HashSet<string> QuantityWords = new(StringComparer.Ordinal)
    {
        "price", "cost", "amount", "count", "cnt", "num", "number", "qty", "quantity", "size", "age", "duration", "length", "len",
        "score", "value", "revenue", "income", "distance", "total", "sum", "balance", "rating", "views", "clicks", "impressions",
    };

    private static readonly string[] ClickNames = ["click", "clicked", "clicks", "is_click", "isclick", "label", "y", "target"];
    private static readonly string[] ConversionNames =
        ["is_attributed", "attributed", "converted", "conversion", "is_conversion", "purchase", "purchased", "is_purchase", "bought", "ordered", "installed", "downloaded"];

    private static readonly long UnixMin = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private static readonly long UnixMax = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private static readonly double MaxClockSpanSeconds = TimeSpan.FromDays(3660).TotalSeconds;

    public static SchemaDraft Draft(DraftOptions o)
    {
        if (o.Rows < 10) throw new ArgumentException("--rows: read at least 10 rows");
        var file = o.Data;
        var t = ReadTable(o);
        var (names, dataRows, rows, header) = (t.Names, t.Rows, t.Rows.Count, t.Header);
        var profiles = Enumerable.Range(0, names.Count).Select(j => new ColumnProfile(names[j], Reference(names, j), [.. dataRows.Select(r => r[j])])).ToList();
        var why = new List<string>
        {
            $"{file}: {rows:N0} rows read{(t.More ? $" (the first {rows:N0}; --rows reads more)" : " (the whole file)")}, {names.Count} columns",
            $"  delimiter '{Show(t.Delimiter)}' ({t.DelimiterWhy}){(t.Quote is null ? "" : "; fields may be quoted with \"")}",
            $"  header: {(header ? "yes" : "no")} ({t.HeaderWhy}){(header || o.Columns is not null ? "" : "; columns are named by position, #0, #1, ... (--columns a,b,... names them)")}",
        };
        if (t.BadRows > 0) why.Add($"  {t.BadRows:N0} rows have another number of columns than {names.Count}: the reader will skip them as bad rows");

        var roles = new Dictionary<int, string>(); // column index -> why it is not a feature

        // The event time.
        var time = DraftTimeOf(o, file, profiles, rows, roles);
        why.Add(time.Column is null ? $"time: {time.Why}" : $"time: '{time.Column}', format \"{time.Format}\": {time.Why}");

        // The labels, and the list column they may come from (one row per item, each with its label).
        var lists = profiles.Select(p => p.IsNumeric ? null : ListShape(p)).ToList();
        var explode = ChooseExplode(o, profiles, lists, names);
        var labels = DraftLabels(o, file, profiles, lists, explode, rows, roles);
        foreach (var l in labels) why.Add($"label {l.Task}: {l.Why}");

        // A conversion's time, when a date-time column is set exactly on the positives.
        if (labels.FirstOrDefault(l => l.Task == "conversion") is { } conversion && time.Column is not null && explode is null)
        {
            conversion.Rule.DelayColumn = DelayColumn(profiles, conversion, time.Format, roles, why);
        }

        JsonObject? explodeJson = null;
        string? group = null;
        var slots = new List<DraftField?>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var idValues = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
        string Unique(string n)
        {
            var x = n;
            for (var k = 2; !taken.Add(x); k++) x = $"{n}_{k}";
            return x;
        }
        if (explode is { } e)
        {
            var list = lists[e.Index]!;
            var items = list.Items.Select(i => i[..i.LastIndexOf(list.LabelSeparator!, StringComparison.Ordinal)]).ToList();
            roles[e.Index] = $"the list exploded into one sample per item (source.explode): {list.Items.Count:N0} items in {rows:N0} rows, each with its label after '{list.LabelSeparator}'";
            explodeJson = new JsonObject
            {
                ["column"] = profiles[e.Index].Reference,
                ["separator"] = list.Separator,
                ["labelSeparator"] = list.LabelSeparator,
                ["itemColumn"] = e.ItemColumn,
                ["labelColumn"] = e.LabelColumn,
                ["countColumn"] = e.CountColumn,
            };
            why.Add($"explode: '{profiles[e.Index].Name}' lists items with a label suffix ('{DelimitedRowSource.Truncate(list.Items[0])}'): one sample per item, the item in '{e.ItemColumn}', its label in '{e.LabelColumn}', the list's length in '{e.CountColumn}'");
            var item = new ColumnProfile(e.ItemColumn, e.ItemColumn, items);
            var itemField = IdField(Unique("item"), item, "the exploded item", unit: "items");
            slots.Add(itemField);
            idValues[itemField.Name] = [.. item.Counts.Keys];
            var counts = new ColumnProfile(e.CountColumn, e.CountColumn, [.. dataRows.Select(r => r[e.Index].Split(list.Separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length.ToString(CultureInfo.InvariantCulture))]);
            slots.Add(NumericField(Unique("item_count"), ColumnRef.Format(e.CountColumn, "int"), counts,
                "the number of items in the list (the slate size: an item on a page of 5 is far likelier clicked than one on a page of 100)"));

            // A column unique per row names the list: samples of one list are a group for group AUC.
            for (var j = 0; j < profiles.Count && group is null; j++)
            {
                if (roles.ContainsKey(j) || !IsUniquePerRow(profiles[j])) continue;
                group = profiles[j].Reference;
                roles[j] = $"the group: unique in each of the {rows:N0} rows, it names each list, and group AUC is computed per list; as a feature it would never recur";
                why.Add($"group: '{profiles[j].Name}', unique in each of the {rows:N0} rows: it names each list, and group AUC is computed per list");
            }
        }

        // A field per remaining column, or the reason it is not one; a bag's table is chosen once every id field is known.
        var times = time.Column is null ? null : EventTimes(profiles[FindColumn(profiles, time.Column)], time.Format);
        var refused = new List<DraftRefusal>();
        var bags = new List<(int Slot, string Name, ListInfo List)>();
        for (var j = 0; j < profiles.Count; j++)
        {
            var p = profiles[j];
            if (roles.TryGetValue(j, out var role))
            {
                refused.Add(new DraftRefusal(p.Name, role));
                continue;
            }
            if (Refusal(p, lists[j], rows, times) is { } no)
            {
                refused.Add(new DraftRefusal(p.Name, no));
                continue;
            }
            var name = Unique(FieldName(names[j], j, header || o.Columns is not null));
            if (lists[j] is { } bag)
            {
                bags.Add((slots.Count, name, bag));
                slots.Add(null);
                continue;
            }
            var categorical = !p.IsNumeric || (p.IsInteger && !HasWord(p.Name, QuantityWords)) || (!p.IsInteger && p.Distinct <= 20);
            if (categorical)
            {
                var reason = p.IsInteger ? "whole numbers, taken as category codes (make the field numeric if they are a quantity)"
                    : p.IsNumeric ? $"only {p.Distinct} distinct numbers, taken as categories"
                    : "text";
                var f = IdField(name, p, reason, unit: "rows");
                slots.Add(f);
                idValues[f.Name] = [.. p.Counts.Keys];
            }
            else
            {
                var reason = p.IsInteger ? $"whole numbers named like a quantity ('{p.Name}')" : $"{p.Distinct:N0} distinct numbers";
                slots.Add(NumericField(name, ColumnRef.Format(RefName(p), p.IsInteger ? "int" : "float"), p, reason));
            }
        }
        foreach (var (slot, name, bag) in bags)
        {
            slots[slot] = BagField(name, bag, [.. slots.OfType<DraftField>().Where(f => f.Kind == FieldKind.Id)], idValues);
        }
        var fields = slots.OfType<DraftField>().ToList();
        if (fields.Count == 0)
        {
            throw new SchemaException($"--data '{file}': no column can be a field:\n  " + string.Join("\n  ", refused.Select(r => $"{r.Column}: {r.Why}")));
        }
        why.Add("fields:");
        foreach (var f in fields)
        {
            var what = f.Kind switch
            {
                FieldKind.Numeric => $"numeric, {f.Transform.ToString()!.ToLowerInvariant()}",
                _ => $"{f.Kind.ToString().ToLowerInvariant()}, {f.Tier.ToString()!.ToLowerInvariant()}, dim {f.Dim}{(f.Table is null ? "" : $", table '{f.Table}'")}",
            };
            why.Add($"  {f.Name} ({what}) from '{ColumnRef.Parse(f.Column).Name}': {f.Why}");
        }
        why.Add("not fields:");
        foreach (var r in refused) why.Add($"  {r.Column}: {r.Why}");

        var name0 = SchemaName(o, file);
        var json = Render(BuildJson(name0, Path.GetFileName(file), t.Delimiter, header, o.Columns, t.Quote, explodeJson, time, labels, group, fields));
        FeatureSchema schema;
        try
        {
            schema = SchemaLoader.Parse(json, $"draft for {file}");
            SampleReader.Open(schema, file); // every column the draft names resolves in this file
        }
        catch (SchemaException ex)
        {
            throw new SchemaException($"the draft for {file} does not load, which is a fault of the drafter; please report it with this message:\n{ex.Message}\n{json}", ex);
        }
        var beside = SideFiles(file);
        if (beside.Count > 0)
        {
            why.Add($"not read: {string.Join(", ", beside)} beside the log; a side file keyed by a column of the log (e.g. an item's category) joins through source.lookups, which a draft does not infer");
        }
        why.Add("no model section: the model's defaults are chosen once for every log; tune nothing before you have results");
        return new SchemaDraft
        {
            Json = json,
            Schema = schema,
            File = file,
            Rows = rows,
            MoreRows = t.More,
            Delimiter = t.Delimiter,
            Header = header,
            Columns = names,
            BadRows = t.BadRows,
            Time = time,
            Labels = labels,
            Fields = fields,
            Refused = refused,
            Explanation = why,
        };
    }

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

    private static DraftTime DraftTimeOf(DraftOptions o, string file, List<ColumnProfile> profiles, int rows, Dictionary<int, string> roles)
    {
        if (o.Time is { } given)
        {
            var j = Resolve(profiles, given, "--time", file);
            var p = profiles[j];
            string format;
            int parsed;
            if (o.TimeFormat is { } f)
            {
                if (!SchemaLoader.IsTimeFormat(f))
                {
                    throw new SchemaException($"--time-format: '{f}' is neither unix-seconds, unix-millis, iso8601 nor a .NET date format string (e.g. \"yyyy-MM-dd HH:mm:ss\")");
                }
                format = f;
                parsed = CountParsed(p, f, out _, out _);
                if (parsed * 2 < p.NonEmpty)
                {
                    throw new SchemaException($"--time-format: \"{f}\" reads only {parsed:N0} of the {p.NonEmpty:N0} values of column '{p.Name}' (e.g. '{DelimitedRowSource.Truncate(p.Example)}')");
                }
            }
            else if (DetectTimeFormat(p) is { } detected)
            {
                (format, parsed) = detected;
            }
            else
            {
                throw new SchemaException($"--time: column '{p.Name}' holds no times in a format tried here (e.g. '{DelimitedRowSource.Truncate(p.Example)}'); pass --time-format with a .NET date format string (e.g. \"yyyy-MM-dd HH:mm:ss\") or unix-seconds, unix-millis, iso8601");
            }
            CountParsed(p, format, out var first, out var last);
            roles[j] = TimeRole;
            return new DraftTime(p.Reference, format, parsed, rows, first, last, $"given; {Span(p, format, parsed, rows, first, last)}");
        }
        var candidates = new List<(int Index, string Format, int Parsed)>();
        for (var j = 0; j < profiles.Count; j++)
        {
            if (DetectTimeFormat(profiles[j]) is { } d && d.Parsed >= 0.9 * rows)
            {
                candidates.Add((j, d.Format, d.Parsed));
            }
        }
        if (candidates.Count == 0)
        {
            return new DraftTime(null, TimeSpec.RowOrder, 0, rows, null, null,
                "no column reads as a date-time or as unix seconds/milliseconds of 2000..2100 in most rows. The draft assumes the rows are in time order (\"format\": \"row-order\": row n is n seconds after the first). "
                + "If they are not, pass --time COLUMN (and --time-format FORMAT when it is not detected)");
        }
        var best = candidates.OrderByDescending(c => c.Parsed).ThenByDescending(c => profiles[c.Index].Distinct).ThenByDescending(c => HasWord(profiles[c.Index].Name, ClockWords)).First();
        var tp = profiles[best.Index];
        CountParsed(tp, best.Format, out var f0, out var f1);
        roles[best.Index] = TimeRole;
        var others = candidates.Where(c => c.Index != best.Index).Select(c => profiles[c.Index].Name).ToList();
        return new DraftTime(tp.Reference, best.Format, best.Parsed, rows, f0, f1,
            $"detected; {Span(tp, best.Format, best.Parsed, rows, f0, f1)}{(others.Count > 0 ? $" (also date-like in most rows: {string.Join(", ", others)}; --time chooses)" : "")}");
    }

    private const string TimeRole = "the event time: samples are replayed in its order; as a feature it would be a clock, a time feature that never recurs";

    private static string Span(ColumnProfile p, string format, int parsed, int rows, DateTime? first, DateTime? last)
    {
        var parser = new TimeParser(format);
        var order = p.Values.Select(v => parser.TryParse(v, out var t) ? t : 0).Where(t => t > 0).ToList();
        var sorted = order.Zip(order.Skip(1)).All(x => x.First <= x.Second);
        return $"{parsed:N0} of {rows:N0} values read, {first:yyyy-MM-dd HH:mm} .. {last:yyyy-MM-dd HH:mm} UTC; "
            + (sorted ? "the rows read are in time order (if the whole file is, \"sorted\": true in source skips the reader's sort)" : "the rows are not in time order: the reader sorts them");
    }

    private static int CountParsed(ColumnProfile p, string format, out DateTime? first, out DateTime? last)
    {
        var parser = new TimeParser(format);
        var n = 0;
        long min = long.MaxValue, max = long.MinValue;
        foreach (var v in p.NonEmptyValues)
        {
            if (!parser.TryParse(v, out var t) || t < DateTime.MinValue.Ticks || t > DateTime.MaxValue.Ticks) continue;
            n++;
            min = Math.Min(min, t);
            max = Math.Max(max, t);
        }
        first = n == 0 ? null : new DateTime(min, DateTimeKind.Utc);
        last = n == 0 ? null : new DateTime(max, DateTimeKind.Utc);
        return n;
    }

    /// <summary>The format in which (nearly) every non-empty value of a column reads as a time of 1990..2100, and how many do.</summary>
    private static (string Format, int Parsed)? DetectTimeFormat(ColumnProfile p)
    {
        if (p.NonEmpty == 0 || p.Distinct < 2) return null;
        if (p.IsNumeric)
        {
            // Unix times: a span of at most ten years inside 2000..2100, in a column not named as an id.
            if (HasWord(p.Name, IdWords)) return null;
            var lo = p.Numbers[0];
            var hi = p.Numbers[^1];
            foreach (var (format, scale) in new[] { ("unix-seconds", 1.0), ("unix-millis", 1000.0) })
            {
                if (lo >= UnixMin * scale && hi <= UnixMax * scale && hi - lo <= MaxClockSpanSeconds * scale) return (format, p.NonEmpty);
            }
            if (!p.IsInteger || p.NonEmptyValues.Select(v => v.Length).Distinct().Count() != 1) return null;
        }
        var sample = p.NonEmptyValues.Take(50).ToList();
        foreach (var format in DateFormats.Append("iso8601"))
        {
            if (format == "iso8601" && !sample.All(v => IsoLike().IsMatch(v))) continue;
            var parser = new TimeParser(format);
            if (!sample.All(v => parser.TryParse(v, out var t) && PlausibleYear(t))) continue;
            var parsed = p.NonEmptyValues.Count(v => parser.TryParse(v, out var t) && PlausibleYear(t));
            if (parsed >= 0.99 * p.NonEmpty) return (format, parsed);
        }
        return null;
    }

    private static bool PlausibleYear(long ticks) => ticks > 0 && ticks < DateTime.MaxValue.Ticks && new DateTime(ticks).Year is >= 1990 and <= 2100;

    private sealed record ExplodeChoice(int Index, string ItemColumn, string LabelColumn, string CountColumn);

    private static ExplodeChoice? ChooseExplode(DraftOptions o, List<ColumnProfile> profiles, List<ListInfo?> lists, List<string> names)
    {
        var click = o.Labels.FirstOrDefault(l => l.Task == "click");
        for (var j = 0; j < lists.Count; j++)
        {
            if (lists[j] is not { LabelSeparator: not null }) continue;
            // A click label from another column: this list is not the samples; it is refused as a leak instead.
            if (click is not null && FindColumn(profiles, click.Column) != j) continue;
            string Free(string n)
            {
                while (names.Contains(n)) n += "_";
                return n;
            }
            var item = Free("item");
            return new ExplodeChoice(j, item, Free(item + "_label"), Free(item + "_count"));
        }
        return null;
    }

    private static List<DraftLabel> DraftLabels(DraftOptions o, string file, List<ColumnProfile> profiles, List<ListInfo?> lists, ExplodeChoice? explode, int rows, Dictionary<int, string> roles)
    {
        var labels = new List<DraftLabel>();
        foreach (var group in o.Labels.GroupBy(l => l.Task))
        {
            if (group.Count() > 1) throw new ArgumentException($"--label: '{group.Key}' is given {group.Count()} times ({string.Join(", ", group)}); give each label once");
        }
        foreach (var request in o.Labels)
        {
            var j = Resolve(profiles, request.Column, $"--label '{request}'", file);
            if (roles.TryGetValue(j, out var role) && role == TimeRole)
            {
                throw new ArgumentException($"--label '{request}': '{profiles[j].Name}' is the event-time column; a label is a column of outcomes (pass --time to choose another time column)");
            }
            if (explode is not null && j == explode.Index)
            {
                var list = lists[j]!;
                var suffixes = new ColumnProfile(explode.LabelColumn, explode.LabelColumn, [.. list.Items.Select(i => i[(i.LastIndexOf(list.LabelSeparator!, StringComparison.Ordinal) + list.LabelSeparator!.Length)..])]);
                labels.Add(Label(request, suffixes, explode.LabelColumn, list.Items.Count, $"from --label, on the label suffix of each item of '{profiles[j].Name}'"));
                continue;
            }
            roles[j] = $"the {request.Task} label";
            labels.Add(Label(request, profiles[j], profiles[j].Reference, rows, "from --label"));
        }
        if (o.Labels.Count > 0) return labels;

        // Nothing given: a list of labelled items, else columns named like labels with two values.
        if (explode is not null)
        {
            var list = lists[explode.Index]!;
            var suffixes = new ColumnProfile(explode.LabelColumn, explode.LabelColumn, [.. list.Items.Select(i => i[(i.LastIndexOf(list.LabelSeparator!, StringComparison.Ordinal) + list.LabelSeparator!.Length)..])]);
            labels.Add(Label(new LabelRequest("click", explode.LabelColumn, "==", "1"), suffixes, explode.LabelColumn, list.Items.Count,
                $"guessed: the items of '{profiles[explode.Index].Name}' end in '{list.LabelSeparator}1' or '{list.LabelSeparator}0', a click label per item; --label click=COLUMN==VALUE chooses"));
            return labels;
        }
        foreach (var (task, candidates) in new[] { ("click", ClickNames), ("conversion", ConversionNames) })
        {
            for (var j = 0; j < profiles.Count; j++)
            {
                var p = profiles[j];
                if (roles.ContainsKey(j) || !candidates.Contains(p.Name.ToLowerInvariant()) || PositiveValue(p) is not { } positive) continue;
                roles[j] = $"the {task} label";
                labels.Add(Label(new LabelRequest(task, p.Name, "==", positive), p, p.Reference, rows,
                    $"guessed from its name and its two values; --label {task}=COLUMN==VALUE chooses"));
                break;
            }
        }
        if (labels.Count == 0)
        {
            var binary = profiles.Where((p, j) => !roles.ContainsKey(j) && p.Distinct == 2).Select(p => $"{p.Name} ({string.Join("/", p.Counts.Keys.Order(StringComparer.Ordinal))})").ToList();
            throw new SchemaException($"--data '{file}': no label column given or recognised by its name; pass --label click=COLUMN==1 (rows are impressions, labelled by click) and/or --label conversion=COLUMN==1 (rows are clicks, or clicked impressions, labelled by conversion)"
                + (binary.Count > 0 ? $"; columns with two values: {string.Join(", ", binary)}" : ""));
        }
        return labels;
    }

    private static DraftLabel Label(LabelRequest r, ColumnProfile p, string column, int rows, string source)
    {
        var rule = new LabelRule { Column = column };
        string text;
        int positives;
        switch (r.Operator)
        {
            case "==":
                rule.EqualsValue = r.Value;
                positives = p.NonEmptyValues.Count(v => v == r.Value);
                text = $"'{p.Name}' == \"{r.Value}\"";
                break;
            default:
                if (!p.IsNumeric)
                {
                    throw new ArgumentException($"--label '{r}': column '{p.Name}' holds text (e.g. '{DelimitedRowSource.Truncate(p.NonEmptyValues.FirstOrDefault(v => !IsNumber(v)) ?? p.Example)}'); '{r.Operator}' compares numbers, use == for a value");
                }
                var x = double.Parse(r.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (r.Operator == ">")
                {
                    if (!p.IsInteger)
                    {
                        throw new ArgumentException($"--label '{r}': a schema label has no '>' on fractional numbers ('{p.Name}' holds e.g. '{p.Example}'); use >= (labels.{r.Task}.atLeast)");
                    }
                    x = Math.Floor(x) + 1;
                }
                rule.AtLeast = x;
                positives = p.Numbers.Count(v => v >= x);
                text = $"'{p.Name}' >= {x.ToString(CultureInfo.InvariantCulture)}{(r.Operator == ">" ? $" ('> {r.Value}' on whole numbers)" : "")}";
                break;
        }
        var notes = new StringBuilder($"{text}: {positives:N0} positives in {rows:N0} samples ({Pct((double)positives / Math.Max(1, rows), 2)}); {source}");
        if (positives == 0) notes.Append("; no positive in the rows read: check the value (the file's most frequent is '" + DelimitedRowSource.Truncate(p.Example) + "')");
        if (p.Empty > 0) notes.Append($"; {p.Empty:N0} rows have no value: the reader will skip them as bad rows");
        return new DraftLabel(r.Task, column, rule, positives, rows, notes.ToString());
    }

    private static string? PositiveValue(ColumnProfile p)
    {
        if (p.Distinct != 2) return null;
        var values = p.Counts.Keys.ToList();
        foreach (var yes in new[] { "1", "true", "True", "TRUE", "yes", "Yes", "y" })
        {
            if (values.Contains(yes)) return yes;
        }
        return null;
    }

    private static string? DelayColumn(List<ColumnProfile> profiles, DraftLabel conversion, string timeFormat, Dictionary<int, string> roles, List<string> why)
    {
        var label = profiles.FindIndex(p => p.Reference == conversion.Column);
        if (label < 0) return null;
        var positive = profiles[label].Values.Select(v => IsPositive(conversion.Rule, v.Trim())).ToList();
        var parser = new TimeParser(timeFormat);
        for (var j = 0; j < profiles.Count; j++)
        {
            var p = profiles[j];
            if (roles.ContainsKey(j) || p.NonEmpty == 0 || p.NonEmpty > positive.Count(x => x) * 2 + 1) continue;
            if (p.NonEmptyValues.Count(v => parser.TryParse(v, out _)) < 0.99 * p.NonEmpty) continue;
            var agree = p.Values.Select((v, i) => (v.Trim().Length > 0) == positive[i]).Count(x => x);
            if (agree < 0.95 * p.Values.Count) continue;
            roles[j] = $"the conversion's time (labels.conversion.delayColumn): set on {p.NonEmpty:N0} rows, {p.Values.Where((v, i) => v.Trim().Length > 0 && positive[i]).Count():N0} of them the positives, in the event-time format; as a feature it would leak the label";
            why.Add($"  delayColumn '{p.Name}': {roles[j]}");
            return p.Reference;
        }
        return null;
    }

    private static bool IsPositive(LabelRule rule, string v) =>
        rule.EqualsValue is { } eq ? v == eq
        : rule.AtLeast is { } min && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x >= min;

    /// <summary>Why a column cannot be a field, or null when it can.</summary>
    private static string? Refusal(ColumnProfile p, ListInfo? list, int rows, DateTime?[]? times)
    {
        const string SlotHarm = "a model trained on a stream sees one slot at a time, learns that slot's effect and serves the next slot with it (time features are refused)";
        if (p.NonEmpty == 0) return $"empty in all {rows:N0} rows";
        if (p.Distinct == 1) return $"constant ('{DelimitedRowSource.Truncate(p.Example)}' in every {(p.Empty > 0 ? "non-empty " : "")}row): it tells no sample from another";
        if (HasWord(p.Name, SlotWords)) return $"named like a time slot ('{p.Name}'): {SlotHarm}";
        if (times is not null && DerivedFromTime(p, times) is { } derived) return $"the {derived.What} of the event time in {Pct(derived.Share)} of rows: a time slot; {SlotHarm}";
        if (ClickNames.Contains(p.Name.ToLowerInvariant()) || ConversionNames.Contains(p.Name.ToLowerInvariant()))
        {
            return $"named like a label ('{p.Name}'): an outcome as a feature leaks the label; --label click={p.Name}==1 or --label conversion={p.Name}==1 makes it the label";
        }
        if (DetectTimeFormat(p) is { } clock && clock.Parsed >= 0.5 * p.NonEmpty)
        {
            return $"a date-time (\"{clock.Format}\"): a second clock is a time feature, its values never recur and tell the model which period it is in";
        }
        if (list is { LabelSeparator: { } sep })
        {
            return $"a list whose items carry a label after '{sep}' ('{DelimitedRowSource.Truncate(list.Items[0])}'): as a feature it would leak the labels (pass --label click={p.Name}==1 to make its items the samples)";
        }
        if (list is { IdLike: false })
        {
            return $"free text (words {SeparatedBy(list.Separator)}, e.g. '{DelimitedRowSource.Truncate(p.Example)}'): not proposed (an 'ids' field with that separator would make a bag of its words)";
        }
        if (p.IsNumeric && p.AscendingShare >= 0.99 && p.Distinct >= 0.5 * p.NonEmpty && p.NonEmpty >= 50)
        {
            return $"increases with the row ({Pct(p.AscendingShare)} of consecutive values do not decrease, {p.Distinct:N0} distinct): a sequence number or a clock; it tracks time and its values never recur";
        }
        if (list is null && IsUniquePerRow(p)) return $"unique in each row ({p.Distinct:N0} distinct in {p.NonEmpty:N0}): a row id; a value seen once teaches nothing and is never seen again when serving";
        return null;
    }

    private static readonly (string What, Func<DateTime, string> Of)[] Derivations =
    [
        ("hour of day", t => t.Hour.ToString(CultureInfo.InvariantCulture)),
        ("hour of day", t => t.ToString("HH", CultureInfo.InvariantCulture)),
        ("day of week", t => ((int)t.DayOfWeek).ToString(CultureInfo.InvariantCulture)),
        ("day of week", t => (((int)t.DayOfWeek + 6) % 7).ToString(CultureInfo.InvariantCulture)),
        ("day of week", t => (((int)t.DayOfWeek + 6) % 7 + 1).ToString(CultureInfo.InvariantCulture)),
        ("day of week", t => t.DayOfWeek.ToString()),
        ("day of week", t => t.ToString("ddd", CultureInfo.InvariantCulture)),
        ("day of month", t => t.Day.ToString(CultureInfo.InvariantCulture)),
        ("minute", t => t.Minute.ToString(CultureInfo.InvariantCulture)),
        ("month", t => t.Month.ToString(CultureInfo.InvariantCulture)),
        ("date", t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
        ("date", t => t.ToString("yyyyMMdd", CultureInfo.InvariantCulture)),
        ("date and hour", t => t.ToString("yyMMddHH", CultureInfo.InvariantCulture)),
    ];

    /// <summary>Each row's event time, null where it does not read.</summary>
    private static DateTime?[] EventTimes(ColumnProfile p, string format)
    {
        var parser = new TimeParser(format);
        return [.. p.Values.Select(v => parser.TryParse(v, out var t) && t > 0 && t < DateTime.MaxValue.Ticks ? new DateTime(t, DateTimeKind.Utc) : (DateTime?)null)];
    }

    /// <summary>What part of the event time a column repeats (its hour, weekday, date...) in 95% of rows, or null.</summary>
    private static (string What, double Share)? DerivedFromTime(ColumnProfile p, DateTime?[] times)
    {
        var rows = Enumerable.Range(0, times.Length).Where(i => times[i] is not null && p.Values[i].Trim().Length > 0).ToList();
        if (rows.Count < 20) return null;
        foreach (var (what, of) in Derivations)
        {
            var same = rows.Count(i => string.Equals(p.Values[i].Trim(), of(times[i]!.Value), StringComparison.OrdinalIgnoreCase));
            if (same >= 0.95 * rows.Count) return (what, (double)same / rows.Count);
        }
        return null;
    }

    private static bool IsUniquePerRow(ColumnProfile p) => p.NonEmpty >= 50 && p.Distinct >= 0.99 * p.NonEmpty;

    private static DraftField IdField(string name, ColumnProfile p, string reason, string unit)
    {
        var frozen = IsFrozen(p.Distinct, p.NonEmpty);
        var dim = frozen ? 16 : p.Distinct <= 10 ? 4 : 8;
        var empty = p.Empty > 0 ? $"; {p.Empty:N0} empty (one shared 'missing' row)" : "";
        return new DraftField(name, ColumnRef.Format(RefName(p), "token"), FieldKind.Id, frozen ? Tier.Frozen : Tier.Changing, dim, null, null, p.Distinct,
            $"{reason}; {p.Distinct:N0} distinct in {p.NonEmpty:N0} {unit} ({Pct(p.SingletonShare)} of them seen once): {TierWhy(frozen, unit)}, dim {dim}{empty}");
    }

    /// <summary>The tier rule: many distinct ids (in absolute terms, or for the rows read) are high-sparse.</summary>
    private static bool IsFrozen(int distinct, int rows) => distinct >= FrozenDistinct || (long)distinct * FrozenRowsPerValue >= rows;

    private static string TierWhy(bool frozen, string unit) => frozen
        ? $"many distinct values (at least {FrozenDistinct:N0}, or one per {FrozenRowsPerValue} {unit}): high-sparse ids, frozen tier"
        : $"few distinct values (under {FrozenDistinct:N0}, and under one per {FrozenRowsPerValue} {unit}): less sparse, changing tier";

    private static DraftField NumericField(string name, string column, ColumnProfile p, string reason)
    {
        var min = p.Numbers[0];
        var median = p.Quantile(0.5);
        var max = p.Numbers[^1];
        var heavy = min >= 0 && (max >= 10 * (median + 1) || max > 1000);
        var transform = heavy ? NumericTransform.Log1p : NumericTransform.Standardize;
        var how = heavy
            ? $"non-negative and heavy-tailed (median {median:G4}, max {max:G4}): log1p"
            : $"range {min:G4} .. {max:G4}: standardize (running mean and deviation)";
        var empty = p.Empty > 0 ? $"; {p.Empty:N0} empty values read as 0" : "";
        return new DraftField(name, column, FieldKind.Numeric, null, null, null, transform, p.Distinct, $"{reason}: {how}{empty}");
    }

    private static DraftField BagField(string name, ListInfo bag, List<DraftField> ids, Dictionary<string, IReadOnlyCollection<string>> idValues)
    {
        var p = bag.Profile;
        var distinct = new HashSet<string>(bag.Items, StringComparer.Ordinal);
        var longest = p.NonEmptyValues.Max(v => v.Split(bag.Separator, StringSplitOptions.RemoveEmptyEntries).Length);
        var shape = $"lists of ids {SeparatedBy(bag.Separator)} ({Pct(bag.Share)} of non-empty values hold several; up to {longest} items"
            + $"{(longest > FeatureLayout.DefaultMaxLength ? $", the last {FeatureLayout.DefaultMaxLength} kept" : "")}){(p.Empty > 0 ? $", {p.Empty:N0} empty" : "")}: a mean-pooled bag";

        // A bag of the same ids as an id field shares its table: what is learnt for an item serves both.
        var signature = Signature(distinct);
        foreach (var f in ids)
        {
            var values = idValues[f.Name];
            var common = distinct.Count(values.Contains);
            var sameShape = signature is not null && signature == Signature(values);
            if (common >= 0.3 * distinct.Count || (sameShape && common > 0))
            {
                return new DraftField(name, ColumnRef.Format(RefName(p)), FieldKind.Ids, f.Tier, f.Dim, f.Table ?? f.Name, null, distinct.Count,
                    $"{shape}; its items are '{f.Name}' ids ({common:N0} of its {distinct.Count:N0} distinct items are '{f.Name}' values{(sameShape ? $", and both look like '{signature}'" : "")}): shares the '{f.Table ?? f.Name}' table", bag.Separator);
            }
        }
        var frozen = IsFrozen(distinct.Count, bag.Items.Count);
        var dim = frozen ? 16 : 8;
        return new DraftField(name, ColumnRef.Format(RefName(p)), FieldKind.Ids, frozen ? Tier.Frozen : Tier.Changing, dim, null, null, distinct.Count,
            $"{shape}; {distinct.Count:N0} distinct in {bag.Items.Count:N0} items: {TierWhy(frozen, "items")}, dim {dim}", bag.Separator);
    }

    /// <summary>The common shape of a set of ids (digits as 9, e.g. 'N9' for N123, N45), when nine in ten have it and it is not bare digits.</summary>
    private static string? Signature(IReadOnlyCollection<string> values)
    {
        if (values.Count == 0) return null;
        var top = values.GroupBy(v => DigitRuns().Replace(v, "9")).MaxBy(g => g.Count())!;
        return top.Count() >= 0.9 * values.Count && top.Key != "9" ? top.Key : null;
    }

    /// <summary>How a column's values split into lists, when they do (a separator in at least half of the non-empty values).</summary>
    private sealed record ListInfo(ColumnProfile Profile, string Separator, double Share, IReadOnlyList<string> Items, bool IdLike, string? LabelSeparator);

    private static ListInfo? ListShape(ColumnProfile p)
    {
        if (p.NonEmpty == 0) return null;
        var values = p.NonEmptyValues.ToList();
        var best = ListSeparators.Select(s => (S: s, Share: (double)values.Count(v => v.Contains(s, StringComparison.Ordinal)) / values.Count)).MaxBy(x => x.Share);
        if (best.Share < 0.5) return null;
        var items = values.SelectMany(v => v.Split(best.S, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (items.Count == 0) return null;
        var idLike = items.Count(i => i.Any(char.IsDigit) && !i.Any(c => char.IsPunctuation(c) && c is not ('-' or '_' or ':' or '.'))) >= 0.8 * items.Count;
        string? labelSeparator = null;
        foreach (var s in LabelSeparators.Where(s => s != best.S))
        {
            var labelled = items.Count(i =>
            {
                var cut = i.LastIndexOf(s, StringComparison.Ordinal);
                return cut > 0 && i.AsSpan(cut + s.Length) is "0" or "1";
            });
            if (labelled >= 0.99 * items.Count)
            {
                labelSeparator = s;
                break;
            }
        }
        return new ListInfo(p, best.S, best.Share, items, idLike, labelSeparator);
    }

    private static JsonObject BuildJson(string name, string file, string delimiter, bool header, IReadOnlyList<string>? columns, string? quote, JsonObject? explode,
        DraftTime time, List<DraftLabel> labels, string? group, List<DraftField> fields)
    {
        var source = new JsonObject { ["format"] = "delimited", ["file"] = file, ["delimiter"] = delimiter, ["header"] = header };
        if (columns is not null) source["columns"] = new JsonArray([.. columns.Select(c => (JsonNode?)c)]);
        if (quote is not null) source["quote"] = quote;
        if (explode is not null) source["explode"] = explode;
        var timeJson = time.Column is null ? new JsonObject { ["format"] = TimeSpec.RowOrder } : new JsonObject { ["column"] = time.Column, ["format"] = time.Format };
        var labelsJson = new JsonObject();
        foreach (var l in labels)
        {
            var rule = new JsonObject { ["column"] = l.Column };
            if (l.Rule.EqualsValue is { } eq) rule["equals"] = eq;
            if (l.Rule.AtLeast is { } min) rule["atLeast"] = min;
            if (l.Rule.DelayColumn is { } delay) rule["delayColumn"] = delay;
            labelsJson[l.Task] = rule;
        }
        var o = new JsonObject { ["name"] = name, ["source"] = source, ["time"] = timeJson, ["labels"] = labelsJson };
        if (group is not null) o["group"] = group;
        var fieldsJson = new JsonArray();
        foreach (var f in fields)
        {
            var j = new JsonObject { ["name"] = f.Name, ["column"] = f.Column, ["kind"] = f.Kind.ToString().ToLowerInvariant() };
            if (f.Table is not null) j["table"] = f.Table;
            if (f.Tier is { } t) j["tier"] = t.ToString().ToLowerInvariant();
            if (f.Dim is { } d) j["dim"] = d;
            if (f.Separator is { } s && s != " ") j["separator"] = s;
            if (f.Transform is { } tr) j["transform"] = tr.ToString().ToLowerInvariant();
            fieldsJson.Add(j);
        }
        o["fields"] = fieldsJson;
        return o;
    }

    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The schema as the committed ones are laid out: a section per line or block, a field per line.</summary>
    private static string Render(JsonObject schema)
    {
        static string Inline(JsonNode? n) => n switch
        {
            JsonObject o => "{ " + string.Join(", ", o.Select(kv => $"{JsonSerializer.Serialize(kv.Key, Compact)}: {Inline(kv.Value)}")) + " }",
            JsonArray a => "[" + string.Join(", ", a.Select(Inline)) + "]",
            null => "null",
            _ => n.ToJsonString(Compact),
        };
        var sb = new StringBuilder("{\n");
        var props = schema.ToList();
        for (var i = 0; i < props.Count; i++)
        {
            var (key, value) = (props[i].Key, props[i].Value);
            sb.Append("  ").Append(JsonSerializer.Serialize(key, Compact)).Append(": ");
            if (value is JsonArray { Count: > 0 } array && key == "fields")
            {
                sb.Append("[\n").Append(string.Join(",\n", array.Select(x => "    " + Inline(x)))).Append("\n  ]");
            }
            else if (value is JsonObject obj && Inline(obj).Length > 100)
            {
                sb.Append("{\n").Append(string.Join(",\n", obj.Select(kv => $"    {JsonSerializer.Serialize(kv.Key, Compact)}: {Inline(kv.Value)}"))).Append("\n  }");
            }
            else
            {
                sb.Append(Inline(value));
            }
            sb.Append(i < props.Count - 1 ? ",\n" : "\n");
        }
        return sb.Append("}\n").ToString();
    }

    private static string SchemaName(DraftOptions o, string file)
    {
        if (o.Name is { } given)
        {
            if (NameRule.Problem(given, "--name") is { } problem) throw new ArgumentException($"{problem} (it names the model and its checkpoint folder)");
            return given;
        }
        var stem = Regex.Replace(Path.GetFileNameWithoutExtension(file).ToLowerInvariant(), "[^a-z0-9_-]+", "-").Trim('-', '_');
        return stem.Length == 0 ? "draft" : stem.Length > 64 ? stem[..64] : stem;
    }

    private static string FieldName(string column, int index, bool named)
    {
        if (!named) return "col" + index.ToString(CultureInfo.InvariantCulture);
        var n = Regex.Replace(column, "[^A-Za-z0-9_-]+", "_").Trim('_', '-');
        if (n.Length == 0) return "col" + index.ToString(CultureInfo.InvariantCulture);
        return n.Length > 60 ? n[..60] : n;
    }

    private static string UniqueName(string name, List<DraftField> fields)
    {
        var taken = fields.Where(f => f is not null).Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var n = name;
        for (var k = 2; taken.Contains(n); k++) n = $"{name}_{k}";
        return n;
    }

    /// <summary>The column a user names: its exact name first (colons and all), then a schema reference (<c>#index</c>, <c>name:type</c>).</summary>
    private static int Resolve(List<ColumnProfile> profiles, string text, string what, string file)
    {
        var j = FindColumn(profiles, text);
        if (j >= 0) return j;
        throw new ArgumentException($"{what}: column '{text}' is not in {file} (columns: {string.Join(", ", profiles.Select(p => p.Name))}){ColumnRef.Parse(text).NotFoundHint([.. profiles.Select(p => p.Name)])}");
    }

    private static int FindColumn(List<ColumnProfile> profiles, string text)
    {
        var j = profiles.FindIndex(p => p.Name == text);
        if (j >= 0) return j;
        var c = ColumnRef.Parse(text);
        if (c.Index is { } i) return i < profiles.Count ? i : -1;
        return profiles.FindIndex(p => p.Name == c.Name);
    }

    /// <summary>Whether a column name holds one of the words (split at non-letters and camel case: 'clickTime' holds 'time').</summary>
    private static bool HasWord(string name, IReadOnlySet<string> words) => words.Contains(name.ToLowerInvariant()) || Words(name).Any(words.Contains);

    private static IEnumerable<string> Words(string name) => WordPattern().Matches(name).Select(m => m.Value.ToLowerInvariant());

    private static bool IsNumber(string v) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x);

    private static int Mode(IEnumerable<int> values) => values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).Select(g => g.Key).FirstOrDefault();

    private static string Show(string d) => d.Replace("\t", "\\t", StringComparison.Ordinal);

    /// <summary>A separator in a sentence: 'separated by spaces' or 'separated by '|''.</summary>
    private static string SeparatedBy(string s) => s == " " ? "separated by spaces" : $"separated by '{Show(s)}'";

    private static string Pct(double share, int digits = 0) => (share * 100).ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%";

    [GeneratedRegex("[0-9]+")]
    private static partial Regex DigitRuns();

    [GeneratedRegex("[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")]
    private static partial Regex IsoLike();
}
