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
public sealed class RequestFeaturizer
{
    private readonly bool _liveSequences;
    private readonly FeatureLayout _layout;
    private readonly HashSet<string> _fields;
    private readonly string? _sequence;
    // The fields a request may give, numbered; and each id, bags and numeric input's number among them (-1: computed, never given).
    private readonly string[] _names;
    private readonly int[] _idNames;
    private readonly int[] _bagNames;
    private readonly int[] _numericNames;

    /// <param name="schema">The model's schema.</param>
    /// <param name="liveSequences">True where the caller fills sequence fields from live state (serving): rows are then taken,
    /// their sequence bags left empty for it; false (a producer's raw samples): a model with a sequence field is refused.</param>
    public RequestFeaturizer(FeatureSchema schema, bool liveSequences = false)
    {
        Schema = schema;
        _liveSequences = liveSequences;
        _layout = FeatureLayout.From(schema);
        _fields = new(schema.Fields.Where(f => f.Kind is not (FieldKind.Rate or FieldKind.Sequence) && (f.Derive ?? TimeDerivation.None) == TimeDerivation.None).Select(f => f.Name), StringComparer.Ordinal);
        _sequence = schema.Fields.FirstOrDefault(f => f.Kind == FieldKind.Sequence)?.Name;
        _names = [.. _fields.Order(StringComparer.Ordinal)];
        _idNames = [.. _layout.IdFields.Select(f => Array.IndexOf(_names, f.Field.Name))];
        _bagNames = [.. _layout.BagFields.Select(f => Array.IndexOf(_names, f.Field.Name))];
        _numericNames = [.. _layout.NumericFields.Select(f => Array.IndexOf(_names, f.Field.Name))];
    }

    public FeatureSchema Schema { get; }

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
        RefuseUnfilledSequences();
        foreach (var key in row.Keys.Concat(lists?.Keys ?? []))
        {
            if (!_fields.Contains(key))
            {
                throw NotInModel(r, key);
            }
        }
        foreach (var key in lists?.Keys ?? [])
        {
            if (!_layout.BagFields.Any(b => b.Field.Name == key)) throw new ArgumentException($"row {r}: field '{key}' is given as a list, but it is not an ids field: give its value as text");
        }
        return Build(new DictionaryRow(row, _names), r, task, now, label, lists, stackalloc char[0]);
    }

    /// <summary>The refusal of a row that gives a field the model does not read, naming the ones it does.</summary>
    private ArgumentException NotInModel(int r, string field) =>
        new($"row {r}: field '{field}' is not in model '{Schema.Name}' (fields: {string.Join(", ", _fields.Order(StringComparer.Ordinal))})");

    /// <summary>Refused rather than scored with an empty sequence the model never trained on (a train/serve skew).</summary>
    private void RefuseUnfilledSequences()
    {
        if (_sequence is null || _liveSequences) return;
        throw new ArgumentException($"model '{Schema.Name}' has the sequence field '{_sequence}', which Freshet fills in replay (train, experiment, demo) " +
            "and serving keeps live, but a raw sample has none: send samples that carry the sequence (freshet replay), or drop the field");
    }

    /// <summary>The sample of one row whose values <paramref name="row"/> reads (by index into the request fields, <see cref="_names"/>).</summary>
    private Sample Build<TRow>(TRow row, int r, TaskKind task, DateTime now, float label, IReadOnlyDictionary<string, IReadOnlyList<string>>? lists, Span<char> scratch)
        where TRow : struct, IRowValues
    {
        var ids = new ulong[_layout.IdFields.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            var f = _layout.IdFields[i].Field;
            ids[i] = f.Derive switch
            {
                TimeDerivation.HourOfDay => IdHasher.Hash(now.Hour.ToString(CultureInfo.InvariantCulture)),
                TimeDerivation.DayOfWeek => IdHasher.Hash(now.DayOfWeek.ToString()),
                _ => IdHasher.Hash(row.TryGet(_idNames[i], r, scratch, out var value) ? value : ""),
            };
        }
        var bags = new ulong[_layout.BagFields.Count][];
        for (var i = 0; i < bags.Length; i++)
        {
            var f = _layout.BagFields[i].Field;
            var max = f.MaxLength ?? FeatureLayout.DefaultMaxLength;
            if (lists?.GetValueOrDefault(f.Name) is { } list)
            {
                string[] parts = [.. list.Select(item => item.Trim()).Where(item => item.Length > 0)];
                bags[i] = [.. parts.Skip(Math.Max(0, parts.Length - max)).Select(p => IdHasher.Hash(p))];
            }
            else
            {
                bags[i] = row.TryGet(_bagNames[i], r, scratch, out var text) ? HashParts(text, f.Separator ?? " ", max) : [];
            }
        }
        var numerics = new float[_layout.NumericFields.Count];
        for (var i = 0; i < numerics.Length; i++)
        {
            var f = _layout.NumericFields[i].Field;
            if (!row.TryGet(_numericNames[i], r, scratch, out var text)) text = "";
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

    /// <summary>The last <paramref name="max"/> parts of <paramref name="text"/> between separators (trimmed, empty ones dropped), hashed: as <see cref="string.Split(string?, StringSplitOptions)"/> would cut them.</summary>
    private static ulong[] HashParts(ReadOnlySpan<char> text, string separator, int max)
    {
        if (separator.Length == 0) return text.Trim().IsEmpty ? [] : [IdHasher.Hash(text.Trim())];
        var count = 0;
        foreach (var range in text.Split(separator))
        {
            if (!text[range].Trim().IsEmpty) count++;
        }
        if (count == 0) return [];
        var hashes = new ulong[Math.Min(count, max)];
        var skip = count - hashes.Length;
        var at = 0;
        foreach (var range in text.Split(separator))
        {
            var part = text[range].Trim();
            if (part.IsEmpty) continue;
            if (skip > 0) { skip--; continue; }
            hashes[at++] = IdHasher.Hash(part);
        }
        return hashes;
    }

    /// <summary>
    /// The rows of a batch as it came over the wire: <paramref name="fields"/> named once, each cell's value as
    /// <paramref name="lengths"/> UTF-8 bytes of <paramref name="text"/> (row-major; -1: not given). The caller checked the
    /// counts and lengths (they add up to the text); a value that is not UTF-8 or longer than <paramref name="maxValueLength"/>
    /// characters, a field the model does not read and a number that is not one are errors naming the row and field.
    /// </summary>
    public List<Sample> Featurize(IReadOnlyList<string> fields, int rows, int[] lengths, byte[] text, DateTime now, int maxRows, int maxValueLength)
    {
        if (rows <= 0) throw new ArgumentException("the request has no rows");
        if (rows > maxRows) throw new ArgumentException($"the request has {rows} rows; at most {maxRows} are scored per call: split the batch");
        if (lengths.Length != rows * fields.Count) throw new ArgumentException($"{lengths.Length} value lengths for {rows} rows of {fields.Count} fields");
        var offsets = new int[lengths.Length];
        var at = 0;
        for (var i = 0; i < lengths.Length; i++)
        {
            offsets[i] = at;
            if (lengths[i] > 0) at += lengths[i];
        }
        if (at != text.Length) throw new ArgumentException($"the values' lengths add up to {at} bytes, the text has {text.Length}");
        // Each request field's column in the batch (-1: no row gives it); a column the model does not read is refused at the
        // first row that gives it, as that row's dictionary would be.
        var columnOf = new int[_names.Length];
        Array.Fill(columnOf, -1);
        var unknown = new List<int>();
        for (var c = 0; c < fields.Count; c++)
        {
            var k = Array.IndexOf(_names, fields[c]);
            if (k >= 0) columnOf[k] = c;
            else unknown.Add(c);
        }
        RefuseUnfilledSequences();
        // A UTF-8 value of n bytes decodes to at most n characters, and the caller allowed at most 3 bytes a character.
        Span<char> scratch = stackalloc char[maxValueLength * 3];
        var samples = new List<Sample>(rows);
        for (var r = 0; r < rows; r++)
        {
            foreach (var c in unknown)
            {
                if (lengths[r * fields.Count + c] < 0) continue;
                throw NotInModel(r, fields[c]);
            }
            var row = new BatchRow(text, offsets, lengths, r * fields.Count, columnOf, fields, maxValueLength);
            samples.Add(Build(row, r, TaskKind.Ctr, now, 0, null, scratch));
        }
        return samples;
    }

    /// <summary>A row's values, read by the index of a request field (<see cref="_names"/>; -1: a field a request does not give).</summary>
    private interface IRowValues
    {
        bool TryGet(int field, int r, Span<char> scratch, out ReadOnlySpan<char> value);
    }

    private readonly struct DictionaryRow(IReadOnlyDictionary<string, string> row, string[] names) : IRowValues
    {
        public bool TryGet(int field, int r, Span<char> scratch, out ReadOnlySpan<char> value)
        {
            if (field >= 0 && row.TryGetValue(names[field], out var text))
            {
                value = text;
                return true;
            }
            value = default;
            return false;
        }
    }

    private readonly struct BatchRow(byte[] text, int[] offsets, int[] lengths, int cell, int[] columnOf, IReadOnlyList<string> fields, int maxValueLength) : IRowValues
    {
        private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public bool TryGet(int field, int r, Span<char> scratch, out ReadOnlySpan<char> value)
        {
            value = default;
            if (field < 0 || columnOf[field] is var c && c < 0) return false;
            var n = lengths[cell + c];
            if (n < 0) return false;
            int chars;
            try
            {
                chars = Strict.GetChars(text.AsSpan(offsets[cell + c], n), scratch);
            }
            catch (Exception e) when (e is System.Text.DecoderFallbackException or ArgumentException)
            {
                throw new ArgumentException($"row {r}: field '{fields[c]}': the value is not UTF-8 text of at most {maxValueLength} characters");
            }
            if (chars > maxValueLength) throw new ArgumentException($"row {r}: field '{fields[c]}' has a value of {chars} characters; at most {maxValueLength}");
            value = scratch[..chars];
            return true;
        }
    }
}
