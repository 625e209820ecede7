using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Freshet.Model.Schema;

/// <summary>Reads a feature schema from JSON and validates it; every problem names the field and says how to fix it.</summary>
public static partial class SchemaLoader
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        Converters = { new StrictEnumConverterFactory() },
        WriteIndented = true,
    };

    /// <summary>Field and column names that denote a time slot even when not derived here.</summary>
    private static readonly HashSet<string> TimeSlotNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "hour", "hour_of_day", "hourofday", "day_of_week", "dayofweek", "weekday", "dow", "time_of_day",
    };

    public static FeatureSchema Load(string path, bool streaming = true)
    {
        if (!File.Exists(path))
        {
            throw new SchemaException($"schema file '{path}' does not exist; pass --schema with a path to a schema JSON file (see schemas/)");
        }
        return Parse(File.ReadAllText(path), path, streaming);
    }

    public static FeatureSchema Parse(string json, string origin = "(inline)", bool streaming = true)
    {
        FeatureSchema? schema;
        try
        {
            schema = JsonSerializer.Deserialize<FeatureSchema>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is long l ? $" line {l + 1}" : "";
            var at = string.IsNullOrEmpty(ex.Path) ? "" : $" at {ex.Path}";
            throw new SchemaException($"schema {origin}{line}{at}: {StripJsonLocation(ex.Message)}", ex);
        }
        if (schema is null)
        {
            throw new SchemaException($"schema {origin}: the file holds no JSON object");
        }
        schema.Origin = origin;
        schema.Json = json;
        var problems = Validate(schema, streaming);
        if (problems.Count > 0)
        {
            throw new SchemaException($"schema {origin} has {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:\n  - " + string.Join("\n  - ", problems));
        }
        return schema;
    }

    /// <summary>All problems of a schema; empty when it can be used.</summary>
    public static List<string> Validate(FeatureSchema s, bool streaming)
    {
        var p = new List<string>();
        if (NameRule.Problem(s.Name, "name") is { } problem) p.Add($"{problem} (it names the model and its checkpoint folder)");
        ValidateSource(s, p);
        ValidateLabels(s, p);
        ValidateFields(s, p, streaming);
        ValidateModel(s.Model, p);
        return p;
    }

    private static void ValidateSource(FeatureSchema s, List<string> p)
    {
        var src = s.Source;
        if (src.Format is not ("delimited" or "synthetic"))
        {
            p.Add($"source.format: '{src.Format}' is not a format; use 'delimited' or 'synthetic'");
            return;
        }
        if (src.Format == "delimited" && string.IsNullOrEmpty(src.Delimiter))
        {
            p.Add("source.delimiter: must not be empty (e.g. \",\" or \"\\t\")");
        }
        if (src.Quote is { Length: not 1 })
        {
            p.Add($"source.quote: '{src.Quote}' must be one character");
        }
        if (src.Explode is { } e)
        {
            if (string.IsNullOrEmpty(e.Column)) p.Add("source.explode.column: name the list column to explode");
            if (string.IsNullOrEmpty(e.ItemColumn)) p.Add("source.explode.itemColumn: name the virtual column that holds each item");
            if (string.IsNullOrEmpty(e.Separator)) p.Add("source.explode.separator: must not be empty");
            if (e.LabelSeparator is not null && string.IsNullOrEmpty(e.LabelColumn)) p.Add("source.explode.labelColumn: name the virtual column that holds each item's label suffix");
        }
        for (var i = 0; i < (src.Lookups?.Count ?? 0); i++)
        {
            var l = src.Lookups![i];
            var at = $"source.lookups[{i}]";
            if (string.IsNullOrEmpty(l.File)) p.Add($"{at}.file: name the side file");
            if (string.IsNullOrEmpty(l.Key)) p.Add($"{at}.key: name the side file's key column");
            if (string.IsNullOrEmpty(l.On)) p.Add($"{at}.on: name the row's column that is matched against the key");
            if (!l.Header && (l.Columns is null || l.Columns.Count == 0)) p.Add($"{at}.columns: a side file without a header needs its column names");
        }
        if (s.Time is { Format: TimeSpec.RowOrder } rowOrder)
        {
            if (!string.IsNullOrEmpty(rowOrder.Column)) p.Add("time.column: with format 'row-order' the rows carry no time; remove the column");
            if (rowOrder.Origin is not null && !DateTimeOffset.TryParse(rowOrder.Origin, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)) p.Add($"time.origin: '{rowOrder.Origin}' is not an ISO 8601 time");
            if (s.Labels.Conversion?.DelayColumn is not null) p.Add("labels.conversion.delayColumn: a 'row-order' log has no times to read a conversion time with");
        }
        else if (s.Time is null || string.IsNullOrEmpty(s.Time.Column))
        {
            p.Add("time.column: a streaming job replays in event time; name the event-time column (or use \"format\": \"row-order\" for a log in time order without times)");
        }
        else if (!IsTimeFormat(s.Time.Format))
        {
            p.Add($"time.format: '{s.Time.Format}' is neither unix-seconds, unix-millis, iso8601 nor a valid .NET date format string");
        }
    }

    private static void ValidateLabels(FeatureSchema s, List<string> p)
    {
        if (s.Labels.Click is null && s.Labels.Conversion is null)
        {
            p.Add("labels: give 'click' and/or 'conversion' (e.g. { \"click\": { \"column\": \"clicked\", \"equals\": \"1\" } })");
        }
        foreach (var (name, rule) in new[] { ("click", s.Labels.Click), ("conversion", s.Labels.Conversion) })
        {
            if (rule is null) continue;
            if (string.IsNullOrEmpty(rule.Column)) p.Add($"labels.{name}.column: name the label's column");
            var kinds = (rule.EqualsValue is null ? 0 : 1) + (rule.AtLeast is null ? 0 : 1) + (rule.NonEmpty is null ? 0 : 1);
            if (kinds != 1) p.Add($"labels.{name}: give exactly one of 'equals', 'atLeast' or 'nonEmpty' (found {kinds})");
            if (rule.DelayColumn is not null && name != "conversion") p.Add($"labels.{name}.delayColumn: only a conversion has a delay column");
        }
    }

    private static void ValidateFields(FeatureSchema s, List<string> p, bool streaming)
    {
        if (s.Fields.Count == 0)
        {
            p.Add("fields: the model needs at least one field");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        var tables = new Dictionary<string, FieldSpec>(StringComparer.Ordinal);
        for (var i = 0; i < s.Fields.Count; i++)
        {
            var f = s.Fields[i];
            var at = $"fields[{i}] '{f.Name}'";
            if (string.IsNullOrWhiteSpace(f.Name) || !FieldNamePattern().IsMatch(f.Name)) { p.Add($"fields[{i}].name: '{f.Name}' must be 1-64 characters of letters, digits, '_' or '-'"); continue; }
            if (!names.Add(f.Name)) p.Add($"{at}: the name is used by an earlier field; field names must be unique");
            if (f.Kind is null) { p.Add($"{at}.kind: missing; use id, ids, numeric, rate or sequence"); continue; }
            var derive = f.Derive ?? TimeDerivation.None;
            if (f.Kind is FieldKind.Ids or FieldKind.Sequence) ValidatePooling(s, f, at, p);
            else if (f.Pooling is not null || f.Target is not null) p.Add($"{at}: pooling and target apply to 'ids' and 'sequence' fields only");
            if (f.Kind == FieldKind.Rate)
            {
                ValidateRate(s, f, at, p);
                continue;
            }
            if (f.Kind == FieldKind.Sequence)
            {
                ValidateSequence(s, f, at, p);
                continue;
            }
            if (derive == TimeDerivation.None && string.IsNullOrEmpty(f.Column)) p.Add($"{at}.column: missing; name the source column (\"column\": \"name\" or \"name:type\" or \"#index\"; {ColumnRef.ColonRule})");
            switch (f.Kind)
            {
                case FieldKind.Id or FieldKind.Ids:
                    if (f.Tier is null) p.Add($"{at}.tier: missing; an embedding field is 'frozen' (high-sparse ids: user, item, ip) or 'changing' (less sparse: category, app, os)");
                    else if (f.Tier == Tier.Dense) p.Add($"{at}.tier: 'dense' is the tier of numeric fields and MLP weights; an embedding field is 'frozen' or 'changing'");
                    if (f.Dim is < 1 or > 1024) p.Add($"{at}.dim: {f.Dim} is out of range; use 1..1024");
                    if (f.Transform is not null) p.Add($"{at}.transform: only numeric fields have a transform");
                    if (f.Kind == FieldKind.Id && (f.MaxLength is not null || f.Separator is not null)) p.Add($"{at}: maxLength and separator apply to 'ids' fields only");
                    if (f.Through is not null && (f.Kind != FieldKind.Ids || f.Through.Length == 0 || (s.Source.Lookups?.Count ?? 0) == 0))
                    {
                        p.Add($"{at}.through: maps an 'ids' field's values through a side file's column; it needs an ids field, a column name and source.lookups");
                    }
                    if (f.MaxLength is < 1) p.Add($"{at}.maxLength: must be at least 1");
                    if (f.Separator is { Length: 0 }) p.Add($"{at}.separator: must not be empty");
                    if (f.MinCount is < 1) p.Add($"{at}.minCount: must be at least 1");
                    if (f.MaxRows is < 1) p.Add($"{at}.maxRows: must be at least 1");
                    if (f.ExpireAfter is not null && !Durations.TryParse(f.ExpireAfter, out _)) p.Add($"{at}.expireAfter: '{f.ExpireAfter}' is not a duration (e.g. 12h, 7d)");
                    if (f.LearningRate is <= 0) p.Add($"{at}.learningRate: must be positive");
                    if (f.ColumnRef is { Type: "float" }) p.Add($"{at}.column: an embedding field reads tokens, not floats; use kind 'numeric' or type 'token'");
                    if (tables.TryGetValue(f.TableName, out var owner))
                    {
                        if ((owner.Dim ?? 16) != (f.Dim ?? 16)) p.Add($"{at}.dim: shares table '{f.TableName}' with field '{owner.Name}' but has dim {f.Dim ?? 16} instead of {owner.Dim ?? 16}");
                        if (owner.Tier != f.Tier) p.Add($"{at}.tier: shares table '{f.TableName}' with field '{owner.Name}' but has tier {f.Tier} instead of {owner.Tier}");
                    }
                    else
                    {
                        tables[f.TableName] = f;
                    }
                    break;
                case FieldKind.Numeric:
                    if (f.Through is not null) p.Add($"{at}.through: applies to 'ids' fields only");
                    if (f.Tier is not null and not Tier.Dense) p.Add($"{at}.tier: numeric fields feed the dense tier; remove 'tier' (or write \"dense\")");
                    if (f.Dim is not null) p.Add($"{at}.dim: numeric fields have no embedding; remove 'dim'");
                    if (f.Table is not null || f.MinCount is not null || f.MaxRows is not null || f.ExpireAfter is not null) p.Add($"{at}: table, minCount, maxRows and expireAfter apply to embedding fields only");
                    if (f.ColumnRef is { Type: "token" or "string" }) p.Add($"{at}.column: a numeric field reads numbers; its column type must be int, long or float");
                    break;
            }
            if (streaming && !s.AllowTimeFeatures && TimeFeatureReason(s, f) is { } why)
            {
                p.Add($"{at} is a time feature ({why}). Streaming jobs refuse time features: a model trained on a stream sees one time slot at a time, learns that slot's effect, and then serves the next slot with it (it over-fits to the time slot being trained on). Remove the field, or set \"allowTimeFeatures\": true at the top of the schema if you accept that.");
            }
        }
        if (s.Group is { Length: 0 }) p.Add("group: must name a column or be left out");
        if (s.Oracle is { } o && string.IsNullOrEmpty(o.Click) && string.IsNullOrEmpty(o.Conversion)) p.Add("oracle: name the column of the true click and/or conversion probability, or leave it out");
        foreach (var (label, named) in new[] { ("click", s.Baseline?.Click), ("conversion", s.Baseline?.Conversion) })
        {
            if (named is null) continue;
            var f = s.Fields.FirstOrDefault(x => x.Name == named);
            if (f is null) p.Add($"baseline.{label}: '{named}' is not a field; name an 'id' field");
            else if (f.Kind != FieldKind.Id) p.Add($"baseline.{label}: field '{named}' is {f.Kind?.ToString().ToLowerInvariant()}; the counting baseline needs an 'id' field");
        }
    }

    private static void ValidatePooling(FeatureSchema s, FieldSpec f, string at, List<string> p)
    {
        if (f.Pooling != BagPooling.Attention)
        {
            if (f.Target is not null) p.Add($"{at}.target: a target is what attention weighs the values against; add \"pooling\": \"attention\" or remove 'target'");
            return;
        }
        var table = FeatureLayout.TableOf(s, f);
        if (table is null) return; // the sequence's own check names the missing 'from'
        var name = FeatureLayout.AttentionTarget(s, f);
        var target = name is null ? null : s.Fields.FirstOrDefault(x => x.Name == name);
        if (name is null) p.Add($"{at}.target: attention needs the candidate's id field, and no id field embeds in table '{table}'; name one with \"target\" (it must share the table)");
        else if (target is null) p.Add($"{at}.target: '{name}' is not a field");
        else if (target.Kind != FieldKind.Id) p.Add($"{at}.target: field '{name}' is {target.Kind?.ToString().ToLowerInvariant()}; the candidate is an 'id' field");
        else if (target.TableName != table) p.Add($"{at}.target: field '{name}' embeds in table '{target.TableName}', this field's values in '{table}'; the candidate and the values must share a table");
        if (f.MaxLength is > 1000) p.Add($"{at}.maxLength: {f.MaxLength} is out of range for attention (one input slot per value); use 1..1000");
    }

    private static void ValidateSequence(FeatureSchema s, FieldSpec f, string at, List<string> p)
    {
        foreach (var (role, name) in new[] { ("of", f.Of), ("from", f.From) })
        {
            var target = s.Fields.FirstOrDefault(x => x.Name == name);
            var what = role == "of" ? "the key whose events are kept (e.g. user)" : "the values recorded (e.g. item)";
            if (string.IsNullOrEmpty(name)) p.Add($"{at}.{role}: name the id field of {what}");
            else if (target is null) p.Add($"{at}.{role}: '{name}' is not a field");
            else if (target.Kind != FieldKind.Id || target.Derive is not (null or TimeDerivation.None)) p.Add($"{at}.{role}: field '{name}' is {(target.Kind == FieldKind.Id ? "a time feature" : target.Kind?.ToString().ToLowerInvariant())}; a sequence names an 'id' field read from a column");
        }
        var events = new[] { "click", "impression", "conversion" };
        var ev = f.Event ?? "click";
        if (!events.Contains(ev)) p.Add($"{at}.event: '{ev}' is not an event; use click, impression or conversion");
        else if (ev == "click" && s.Labels.Click is null) p.Add($"{at}.event: the schema has no click label; use impression{(s.Labels.Conversion is null ? "" : " or conversion")}");
        else if (ev == "conversion" && s.Labels.Conversion is null) p.Add($"{at}.event: the schema has no conversion label; use click or impression");
        if (f.MaxLength is < 1 or > 1000) p.Add($"{at}.maxLength: {f.MaxLength} is out of range; use 1..1000 (default 20)");
        if (f.MaxRows is < 1) p.Add($"{at}.maxRows: the most keys kept; must be at least 1");
        if (f.ExpireAfter is not null && !Durations.TryParse(f.ExpireAfter, out _)) p.Add($"{at}.expireAfter: '{f.ExpireAfter}' is not a duration (e.g. 12h, 7d)");
        if (f.Column is not null || f.Derive is not (null or TimeDerivation.None)) p.Add($"{at}.column: a sequence has no column: Freshet keeps it from the events; remove 'column'");
        if (f.Table is not null || f.Dim is not null || f.Tier is not null) p.Add($"{at}: a sequence is embedded in the table of its 'from' field, at its dim and tier; remove table, dim and tier");
        if (f.Transform is not null || f.Separator is not null || f.MinCount is not null || f.Optimizer is not null || f.LearningRate is not null || f.Label is not null || f.Prior is not null)
        {
            p.Add($"{at}: a sequence takes of, from, event, maxLength, maxRows, expireAfter, pooling and target only");
        }
    }

    private static void ValidateRate(FeatureSchema s, FieldSpec f, string at, List<string> p)
    {
        var of = s.Fields.FirstOrDefault(x => x.Name == f.Of);
        if (string.IsNullOrEmpty(f.Of)) p.Add($"{at}.of: name the id field whose rate is counted");
        else if (of is null) p.Add($"{at}.of: '{f.Of}' is not a field");
        else if (of.Kind != FieldKind.Id) p.Add($"{at}.of: field '{f.Of}' is {of.Kind?.ToString().ToLowerInvariant()}; a rate counts an 'id' field");
        if (f.Label is not ("click" or "conversion")) p.Add($"{at}.label: '{f.Label}' is not a label; use click or conversion");
        else if ((f.Label == "click" ? s.Labels.Click : s.Labels.Conversion) is null) p.Add($"{at}.label: the schema has no '{f.Label}' label");
        if (f.Tier is not null and not Tier.Changing) p.Add($"{at}.tier: a rate's counts are changing-tier state; remove 'tier' (or write \"changing\")");
        if (f.Column is not null || f.Dim is not null || f.Table is not null || f.Transform is not null) p.Add($"{at}: a rate field has no column, dim, table or transform");
        if (f.Prior is < 0) p.Add($"{at}.prior: must not be negative");
        if (f.MaxRows is < 1) p.Add($"{at}.maxRows: must be at least 1");
        if (f.ExpireAfter is not null && !Durations.TryParse(f.ExpireAfter, out _)) p.Add($"{at}.expireAfter: '{f.ExpireAfter}' is not a duration (e.g. 12h, 7d)");
    }

    private static string? TimeFeatureReason(FeatureSchema s, FieldSpec f)
    {
        if (f.TimeFeature == false)
        {
            return null;
        }
        if (f.TimeFeature == true)
        {
            return "the schema marks it with \"timeFeature\": true";
        }
        switch (f.Derive)
        {
            case TimeDerivation.HourOfDay: return "hour-of-day derived from the event time";
            case TimeDerivation.DayOfWeek: return "day-of-week derived from the event time";
        }
        var col = f.ColumnRef?.Name;
        if (col is not null && s.Time is not null && col == ColumnRef.Parse(s.Time.Column).Name)
        {
            return $"it reads the event-time column '{col}'";
        }
        if (TimeSlotNames.Contains(f.Name) || (col is not null && TimeSlotNames.Contains(col)))
        {
            return $"its name '{(TimeSlotNames.Contains(f.Name) ? f.Name : col)}' denotes a time slot; if it is not one, set \"timeFeature\": false on the field";
        }
        return null;
    }

    private static void ValidateModel(ModelSpec m, List<string> p)
    {
        if (m.Hidden.Count == 0 || m.Hidden.Any(h => h < 1 || h > 8192)) p.Add("model.hidden: give one or more layer widths in 1..8192, e.g. [256, 128]");
        if (m.BatchSize is < 1 or > 1_000_000) p.Add($"model.batchSize: {m.BatchSize} is out of range; use 1..1000000");
        if (m.CvrBatchSize is < 1 or > 1_000_000) p.Add($"model.cvrBatchSize: {m.CvrBatchSize} is out of range; use 1..1000000");
        if (m.SparseLearningRate <= 0) p.Add("model.sparseLearningRate: must be positive");
        if (m.DenseLearningRate <= 0) p.Add("model.denseLearningRate: must be positive");
        if (m.InitScale < 0) p.Add("model.initScale: must not be negative");
        if (m.AdagradInitialAccumulator < 0) p.Add("model.adagradInitialAccumulator: must not be negative");
        if (m.BatchNormMomentum is <= 0 or > 1) p.Add("model.batchNormMomentum: must be in (0, 1]");
        if (m.AdamBeta1 is < 0 or >= 1 || m.AdamBeta2 is < 0 or >= 1) p.Add("model.adamBeta1/adamBeta2: must be in [0, 1)");
        if (m.CrossLayers is < 1 or > 8) p.Add($"model.crossLayers: {m.CrossLayers} is out of range; use 1..8");
        if (m.CrossRank is < 0 or > 4096) p.Add($"model.crossRank: {m.CrossRank} is out of range; use 0 (full rank) or 1..4096");
        if (m.FtrlAlpha <= 0 || m.FtrlBeta < 0 || m.FtrlL1 < 0 || m.FtrlL2 < 0) p.Add("model.ftrl*: alpha must be positive, beta, l1 and l2 not negative");
    }

    internal static bool IsTimeFormat(string format)
    {
        if (format is "unix-seconds" or "unix-millis" or "iso8601")
        {
            return true;
        }
        if (string.IsNullOrEmpty(format))
        {
            return false;
        }
        try
        {
            var sample = new DateTime(2019, 11, 14, 13, 5, 9, DateTimeKind.Utc);
            var text = sample.ToString(format, CultureInfo.InvariantCulture);
            return DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out _);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string StripJsonLocation(string message)
    {
        var i = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FieldNamePattern();
}
