using System.Globalization;
using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;

namespace Freshet.Model.Serving;

/// <summary>
/// Turns scoring requests (field name to value, as text) into samples the way training featurized
/// log rows; an unknown field, a number that is not one or a batch over the limit is an error that
/// names the row and the field.
/// </summary>
/// <param name="schema">The model's schema.</param>
/// <param name="liveSequences">True where the caller fills sequence fields from live state (serving): rows are then taken,
/// their sequence bags left empty for it; false (a producer's raw samples): a model with a sequence field is refused.</param>
public sealed class RequestFeaturizer(FeatureSchema schema, bool liveSequences = false)
{
    private readonly FeatureLayout _layout = FeatureLayout.From(schema);
    private readonly HashSet<string> _fields = new(schema.Fields.Where(f => f.Kind is not (FieldKind.Rate or FieldKind.Sequence) && (f.Derive ?? TimeDerivation.None) == TimeDerivation.None).Select(f => f.Name), StringComparer.Ordinal);
    private readonly string? _sequence = schema.Fields.FirstOrDefault(f => f.Kind == FieldKind.Sequence)?.Name;

    public FeatureSchema Schema { get; } = schema;

    /// <summary>The fields a request may give (id, ids and numeric fields; rates and time features are computed).</summary>
    public IReadOnlyCollection<string> Fields => _fields;

    public List<Sample> Featurize(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, DateTime now, int maxRows) =>
        Featurize([.. rows.Select(r => (r, (IReadOnlyDictionary<string, IReadOnlyList<string>>?)null))], now, maxRows);

    /// <summary>As <see cref="Featurize(IReadOnlyList{IReadOnlyDictionary{string, string}}, DateTime, int)"/>, with each row's <c>ids</c> fields given as lists too.</summary>
    public List<Sample> Featurize(IReadOnlyList<(IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, IReadOnlyList<string>>? Lists)> rows, DateTime now, int maxRows)
    {
        if (rows.Count == 0) throw new ArgumentException("the request has no rows");
        if (rows.Count > maxRows) throw new ArgumentException($"the request has {rows.Count} rows; at most {maxRows} are scored per call: split the batch");
        var samples = new List<Sample>(rows.Count);
        for (var r = 0; r < rows.Count; r++) samples.Add(FeaturizeRow(rows[r].Values, r, TaskKind.Ctr, now, 0, rows[r].Lists));
        return samples;
    }

    /// <summary>
    /// One row (field name to value, as text) as a sample of <paramref name="task"/> at <paramref name="now"/>
    /// with <paramref name="label"/>: a scoring request's row, or a raw row a producer sent on a samples hub.
    /// An unknown field or a number that is not one throws <see cref="ArgumentException"/> naming row <paramref name="r"/> and the field.
    /// <paramref name="lists"/> holds <c>ids</c> fields given as lists: each item one id (trimmed; empty items dropped), as a part between separators would be.
    /// </summary>
    public Sample FeaturizeRow(IReadOnlyDictionary<string, string> row, int r, TaskKind task, DateTime now, float label, IReadOnlyDictionary<string, IReadOnlyList<string>>? lists = null)
    {
        if (_sequence is not null && !liveSequences)
        {
            // Refused rather than scored with an empty sequence the model never trained on (a train/serve skew).
            throw new ArgumentException($"model '{Schema.Name}' has the sequence field '{_sequence}', which Freshet fills in replay (train, experiment, demo) " +
                "and serving keeps live, but a raw sample has none: send samples that carry the sequence (freshet replay), or drop the field");
        }
        foreach (var key in row.Keys.Concat(lists?.Keys ?? []))
        {
            if (!_fields.Contains(key))
            {
                throw new ArgumentException($"row {r}: field '{key}' is not in model '{Schema.Name}' (fields: {string.Join(", ", _fields.Order(StringComparer.Ordinal))})");
            }
        }
        foreach (var key in lists?.Keys ?? [])
        {
            if (!_layout.BagFields.Any(b => b.Field.Name == key)) throw new ArgumentException($"row {r}: field '{key}' is given as a list, but it is not an ids field: give its value as text");
        }
        var ids = new ulong[_layout.IdFields.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            var f = _layout.IdFields[i].Field;
            ids[i] = f.Derive switch
            {
                TimeDerivation.HourOfDay => IdHasher.Hash(now.Hour.ToString(CultureInfo.InvariantCulture)),
                TimeDerivation.DayOfWeek => IdHasher.Hash(now.DayOfWeek.ToString()),
                _ => IdHasher.Hash(row.GetValueOrDefault(f.Name) ?? ""),
            };
        }
        var bags = new ulong[_layout.BagFields.Count][];
        for (var i = 0; i < bags.Length; i++)
        {
            var f = _layout.BagFields[i].Field;
            string[] parts = lists?.GetValueOrDefault(f.Name) is { } list
                ? [.. list.Select(item => item.Trim()).Where(item => item.Length > 0)]
                : (row.GetValueOrDefault(f.Name) ?? "").Split(f.Separator ?? " ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var skip = Math.Max(0, parts.Length - (f.MaxLength ?? FeatureLayout.DefaultMaxLength));
            bags[i] = [.. parts.Skip(skip).Select(p => IdHasher.Hash(p))];
        }
        var numerics = new float[_layout.NumericFields.Count];
        for (var i = 0; i < numerics.Length; i++)
        {
            var f = _layout.NumericFields[i].Field;
            var text = row.GetValueOrDefault(f.Name) ?? "";
            double x = 0;
            if (text.Length > 0 && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out x) || !double.IsFinite(x)))
            {
                throw new ArgumentException($"row {r}: field '{f.Name}': '{text}' is not a number");
            }
            numerics[i] = f.Transform switch
            {
                NumericTransform.Log1p => (float)(Math.Sign(x) * Math.Log(1 + Math.Abs(x))),
                NumericTransform.Standardize => throw new ArgumentException($"field '{f.Name}' is standardized with statistics of the training stream, which serving does not have yet; use transform none or log1p for a served model"),
                _ => (float)x,
            };
        }
        return new Sample { Task = task, Time = now.Ticks, Label = label, Ids = ids, Bags = bags, Numerics = numerics };
    }
}
