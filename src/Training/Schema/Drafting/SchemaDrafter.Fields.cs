using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Freshet.Model.Data;

namespace Freshet.Model.Schema.Drafting;

/// <summary>A field per usable column (ids, numbers, bags) with its tier, the columns refused and why, and the draft's JSON.</summary>
public static partial class SchemaDrafter
{
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
}
