using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Freshet.Model.Data;

namespace Freshet.Model.Schema.Drafting;

/// <summary>The labels: a click and a conversion column (or an exploded list of items with their labels), and a conversion's delay.</summary>
public static partial class SchemaDrafter
{
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
}
