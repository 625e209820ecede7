using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Freshet.Model.Data;

namespace Freshet.Model.Schema.Drafting;

/// <summary>The event-time column and its format, and the columns that only restate the time (derivations of it).</summary>
public static partial class SchemaDrafter
{
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
}
