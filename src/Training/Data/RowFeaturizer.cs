using System.Globalization;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;

namespace Freshet.Model.Data;

/// <summary>
/// Turns raw rows into samples as the schema says: explodes list columns, joins lookups, reads
/// labels, hashes ids and transforms numbers. One featurizer per stream: numeric standardisation
/// keeps running statistics.
/// </summary>
public sealed class RowFeaturizer
{
    private static readonly ulong MissingId = IdHasher.Hash("");
    private readonly FeatureSchema _schema;
    private readonly FeatureLayout _layout;
    private readonly List<string> _names;
    private readonly int _mainCount;
    private readonly IReadOnlyList<LookupTable> _lookups;
    private readonly int[] _lookupOn;
    private readonly int[] _lookupBase;
    private readonly int _explodeIndex = -1;
    private readonly string _explodeSeparator = " ";
    private readonly string? _labelSeparator;
    private readonly int[] _idColumns;
    private readonly TimeDerivation[] _idDerive;
    private readonly int[] _bagColumns;
    private readonly (int Lookup, int Column)[] _bagThrough;
    private readonly int[] _numericColumns;
    private readonly RunningMoments[] _numericMoments;
    private readonly LabelReader? _click;
    private readonly LabelReader? _conversion;
    private readonly int _delayIndex = -1;
    private readonly TimeParser? _delayTime;
    private readonly int _groupIndex = -1;
    private readonly int _oracleClick = -1;
    private readonly int _oracleConversion = -1;

    public RowFeaturizer(FeatureSchema schema, FeatureLayout layout, IReadOnlyList<string> columns, IReadOnlyList<LookupTable> lookups, string where)
    {
        _schema = schema;
        _layout = layout;
        _names = [.. columns];
        _mainCount = columns.Count;
        _lookups = lookups;
        if (schema.Source.Explode is { } e)
        {
            _explodeIndex = Resolve(e.Column, "source.explode.column", where);
            _explodeSeparator = e.Separator;
            _labelSeparator = e.LabelSeparator;
            _names.Add(e.ItemColumn);
            _names.Add(e.LabelColumn ?? "");
            _names.Add(e.CountColumn ?? "");
        }
        _lookupOn = new int[lookups.Count];
        _lookupBase = new int[lookups.Count];
        for (var i = 0; i < lookups.Count; i++)
        {
            _lookupOn[i] = Resolve(lookups[i].Spec.On, $"source.lookups[{i}].on", where);
            _lookupBase[i] = _names.Count;
            _names.AddRange(lookups[i].Columns);
        }
        _idColumns = [.. layout.IdFields.Select(s => s.Field.Derive is null or TimeDerivation.None ? Resolve(s.Field.Column!, $"field '{s.Field.Name}' column", where) : -1)];
        _idDerive = [.. layout.IdFields.Select(s => s.Field.Derive ?? TimeDerivation.None)];
        // A sequence has no column (-1): it starts empty, and replay fills it (SequenceTracker).
        _bagColumns = [.. layout.BagFields.Select(s => s.Field.Kind == FieldKind.Sequence ? -1 : Resolve(s.Field.Column!, $"field '{s.Field.Name}' column", where))];
        _bagThrough = [.. layout.BagFields.Select(s => s.Field.Through is { } through ? Through(s.Field.Name, through, lookups, where) : (-1, -1))];
        _numericColumns = [.. layout.NumericFields.Select(s => Resolve(s.Field.Column!, $"field '{s.Field.Name}' column", where))];
        _numericMoments = [.. layout.NumericFields.Select(_ => new RunningMoments())];
        if (schema.Labels.Click is { } c) _click = new LabelReader("click", c, Resolve(c.Column, "labels.click.column", where));
        if (schema.Labels.Conversion is { } v)
        {
            _conversion = new LabelReader("conversion", v, Resolve(v.Column, "labels.conversion.column", where));
            if (v.DelayColumn is not null)
            {
                _delayIndex = Resolve(v.DelayColumn, "labels.conversion.delayColumn", where);
                _delayTime = new TimeParser(schema.Time!.Format);
            }
        }
        if (schema.Group is not null) _groupIndex = Resolve(schema.Group, "group", where);
        if (schema.Oracle?.Click is { Length: > 0 } oc) _oracleClick = Resolve(oc, "oracle.click", where);
        if (schema.Oracle?.Conversion is { Length: > 0 } ov) _oracleConversion = Resolve(ov, "oracle.conversion", where);
    }

    private static (int Lookup, int Column) Through(string field, string through, IReadOnlyList<LookupTable> lookups, string where)
    {
        for (var i = 0; i < lookups.Count; i++)
        {
            var k = lookups[i].Columns.ToList().IndexOf(through);
            if (k >= 0) return (i, k);
        }
        throw new SchemaException($"{where}: field '{field}' through: '{through}' is not a column of any lookup (their columns: {string.Join(", ", lookups.SelectMany(l => l.Columns))}); name a lookup column with its prefix, e.g. news_category");
    }

    /// <summary>Every column name a field may refer to: the row's, the exploded item and label, and the lookups'.</summary>
    public IReadOnlyList<string> ColumnNames => _names;

    /// <summary>Appends the samples of one row to <paramref name="output"/>; a malformed row adds none and goes to <paramref name="bad"/>.</summary>
    public void Featurize(RawRow row, BadRows bad, List<Sample> output)
    {
        var start = output.Count;
        try
        {
            var values = new string[_names.Count];
            Array.Copy(row.Columns, values, _mainCount);
            if (_explodeIndex < 0)
            {
                FeaturizeValues(row, values, output);
                return;
            }
            var list = row.Columns[_explodeIndex];
            var items = list.Split(_explodeSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (items.Length == 0)
            {
                throw new RowError("explode", $"column '{_names[_explodeIndex]}' is empty: nothing to explode");
            }
            values[_mainCount + 2] = items.Length.ToString(CultureInfo.InvariantCulture);
            foreach (var item in items)
            {
                var value = item;
                var label = "";
                if (_labelSeparator is not null)
                {
                    var cut = item.LastIndexOf(_labelSeparator, StringComparison.Ordinal);
                    if (cut <= 0 || cut + _labelSeparator.Length >= item.Length)
                    {
                        throw new RowError("explode", $"item '{DelimitedRowSource.Truncate(item)}' of column '{_names[_explodeIndex]}' has no '{_labelSeparator}' label suffix (expected e.g. N123{_labelSeparator}1)");
                    }
                    value = item[..cut];
                    label = item[(cut + _labelSeparator.Length)..];
                }
                values[_mainCount] = value;
                values[_mainCount + 1] = label;
                FeaturizeValues(row, values, output);
            }
        }
        catch (RowError e)
        {
            output.RemoveRange(start, output.Count - start);
            bad.Report(row.File, row.Line, e.Reason, e.Message);
        }
    }

    private void FeaturizeValues(RawRow row, string[] values, List<Sample> output)
    {
        for (var i = 0; i < _lookups.Count; i++)
        {
            var found = _lookups[i].Find(values[_lookupOn[i]]);
            var n = _lookups[i].Columns.Count;
            for (var k = 0; k < n; k++) values[_lookupBase[i] + k] = found?[k] ?? "";
        }
        var ids = new ulong[_idColumns.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = _idDerive[i] switch
            {
                TimeDerivation.HourOfDay => IdHasher.Hash(new DateTime(row.Time, DateTimeKind.Utc).Hour.ToString(CultureInfo.InvariantCulture)),
                TimeDerivation.DayOfWeek => IdHasher.Hash(new DateTime(row.Time, DateTimeKind.Utc).DayOfWeek.ToString()),
                _ => HashToken(values[_idColumns[i]]),
            };
        }
        var bags = new ulong[_bagColumns.Length][];
        for (var i = 0; i < bags.Length; i++)
        {
            var f = _layout.BagFields[i].Field;
            if (_bagColumns[i] < 0)
            {
                bags[i] = [];
                continue;
            }
            var parts = values[_bagColumns[i]].Split(f.Separator ?? " ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (_bagThrough[i] is { Lookup: >= 0 } through)
            {
                // Each value read as the side file's column for it; values the side file lacks (or leaves empty) are dropped.
                parts = [.. parts.Select(part => _lookups[through.Lookup].Find(part)?[through.Column]).OfType<string>().Where(x => x.Length > 0)];
            }
            var max = f.MaxLength ?? FeatureLayout.DefaultMaxLength;
            var skip = Math.Max(0, parts.Length - max);
            var bag = new ulong[parts.Length - skip];
            for (var k = 0; k < bag.Length; k++) bag[k] = IdHasher.Hash(parts[skip + k]);
            bags[i] = bag;
        }
        var numerics = new float[_numericColumns.Length];
        for (var i = 0; i < numerics.Length; i++)
        {
            var f = _layout.NumericFields[i].Field;
            var text = values[_numericColumns[i]];
            double x = 0;
            if (text.Length > 0 && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out x))
            {
                throw new RowError("number", $"field '{f.Name}' column '{_names[_numericColumns[i]]}': '{DelimitedRowSource.Truncate(text)}' is not a number");
            }
            if (!double.IsFinite(x))
            {
                throw new RowError("number", $"field '{f.Name}' column '{_names[_numericColumns[i]]}': '{text}' is not a finite number");
            }
            numerics[i] = (float)(f.Transform switch
            {
                NumericTransform.Log1p => Math.Sign(x) * Math.Log(1 + Math.Abs(x)),
                NumericTransform.Standardize => _numericMoments[i].StandardizeThenAdd(x),
                _ => x,
            });
        }
        ulong? group = _groupIndex >= 0 ? IdHasher.Hash(values[_groupIndex]) : null;

        if (_click is not null)
        {
            var click = _click.Read(values);
            var conversion = _conversion is not null && click > 0 ? ConversionSample(row, values, ids, bags, numerics, group) : null;
            output.Add(new Sample
            {
                Task = TaskKind.Ctr, Time = row.Time, Label = click, Ids = ids, Bags = bags, Numerics = numerics, Group = group,
                TrueProbability = Oracle(values, _oracleClick),
                ConversionLabel = _conversion is null ? float.NaN : conversion?.Label ?? 0,
            });
            if (conversion is not null) output.Add(conversion);
        }
        else if (_conversion is not null)
        {
            output.Add(ConversionSample(row, values, ids, bags, numerics, group));
        }
    }

    private Sample ConversionSample(RawRow row, string[] values, ulong[] ids, ulong[][] bags, float[] numerics, ulong? group)
    {
        var label = _conversion!.Read(values);
        long conversionTime = 0;
        if (label > 0 && _delayIndex >= 0)
        {
            var text = values[_delayIndex];
            if (text.Length > 0 && !_delayTime!.TryParse(text, out conversionTime))
            {
                throw new RowError("time", $"labels.conversion.delayColumn '{_names[_delayIndex]}': '{DelimitedRowSource.Truncate(text)}' is not a time in format '{_delayTime.Format}'");
            }
        }
        return new Sample
        {
            // Its own bags array: a sequence is filled into each sample's, after the CTR sample's click was recorded.
            Task = TaskKind.Cvr, Time = row.Time, Label = label, Ids = ids, Bags = (ulong[][])bags.Clone(), Numerics = numerics, Group = group,
            TrueProbability = Oracle(values, _oracleConversion), ConversionTime = conversionTime,
        };
    }

    private static ulong HashToken(string value) => value.Length == 0 ? MissingId : IdHasher.Hash(value);

    private float Oracle(string[] values, int index)
    {
        if (index < 0) return float.NaN;
        return float.TryParse(values[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var p)
            ? p
            : throw new RowError("number", $"oracle column '{_names[index]}': '{DelimitedRowSource.Truncate(values[index])}' is not a probability");
    }

    private int Resolve(string reference, string key, string where)
    {
        var c = ColumnRef.Parse(reference);
        if (c.Index is null)
        {
            var i = _names.IndexOf(c.Name);
            if (i >= 0) return i;
            throw new SchemaException($"{key}: column '{c.Name}' is not in {where} (columns: {string.Join(", ", _names.Where(n => n.Length > 0))}){c.NotFoundHint(_names)}");
        }
        return DelimitedRowSource.ResolveColumn(_names, reference, key, where);
    }

    private sealed class LabelReader(string name, LabelRule rule, int index)
    {
        public float Read(string[] values)
        {
            var v = values[index].Trim();
            if (rule.NonEmpty is { } nonEmpty)
            {
                return (v.Length > 0) == nonEmpty ? 1f : 0f;
            }
            if (v.Length == 0)
            {
                throw new RowError("label", $"labels.{name}: column '{rule.Column}' is empty");
            }
            if (rule.EqualsValue is { } eq)
            {
                return v == eq ? 1f : 0f;
            }
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x))
            {
                throw new RowError("label", $"labels.{name}: column '{rule.Column}': '{DelimitedRowSource.Truncate(v)}' is not a number");
            }
            return x >= rule.AtLeast!.Value ? 1f : 0f;
        }
    }

    private sealed class RowError(string reason, string message) : Exception(message)
    {
        public string Reason { get; } = reason;
    }

    /// <summary>Welford's running mean and variance.</summary>
    private sealed class RunningMoments
    {
        private long _n;
        private double _mean;
        private double _m2;

        public double StandardizeThenAdd(double x)
        {
            var std = _n > 1 ? Math.Sqrt(_m2 / (_n - 1)) : 0;
            var z = std > 1e-9 ? (x - _mean) / std : 0;
            _n++;
            var d = x - _mean;
            _mean += d / _n;
            _m2 += d * (x - _mean);
            return z;
        }
    }
}
