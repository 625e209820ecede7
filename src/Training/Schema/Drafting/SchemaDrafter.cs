using System.Globalization;
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
