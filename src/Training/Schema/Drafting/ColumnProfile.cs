using System.Globalization;

namespace Freshet.Model.Schema.Drafting;

/// <summary>What the rows read say about one column: emptiness, distinct values, numbers, order.</summary>
internal sealed class ColumnProfile
{
    public ColumnProfile(string name, string reference, IReadOnlyList<string> values)
    {
        Name = name;
        Reference = reference;
        Values = values;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var numbers = new List<double>();
        IsInteger = true;
        IsNumeric = true;
        var ascending = 0;
        var pairs = 0;
        double? previous = null;
        foreach (var raw in values)
        {
            var v = raw.Trim();
            if (v.Length == 0)
            {
                Empty++;
                continue;
            }
            counts[v] = counts.GetValueOrDefault(v) + 1;
            if (!IsNumeric) continue;
            if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x))
            {
                numbers.Add(x);
                IsInteger &= long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
                if (previous is { } p)
                {
                    pairs++;
                    if (x >= p) ascending++;
                }
                previous = x;
            }
            else
            {
                IsNumeric = false;
                IsInteger = false;
            }
        }
        NonEmpty = values.Count - Empty;
        Counts = counts;
        IsNumeric &= NonEmpty > 0;
        IsInteger &= IsNumeric;
        if (IsNumeric)
        {
            numbers.Sort();
            Numbers = numbers;
            AscendingShare = pairs == 0 ? 0 : (double)ascending / pairs;
        }
    }

    /// <summary>The column's name as the reader sees it (<c>#3</c> without a header).</summary>
    public string Name { get; }

    /// <summary>How a schema refers to the column (without a type).</summary>
    public string Reference { get; }

    public IReadOnlyList<string> Values { get; }

    public int Empty { get; }

    public int NonEmpty { get; }

    /// <summary>Occurrences of each distinct non-empty value (trimmed).</summary>
    public IReadOnlyDictionary<string, int> Counts { get; }

    public int Distinct => Counts.Count;

    /// <summary>Share of the distinct values seen only once.</summary>
    public double SingletonShare => Distinct == 0 ? 0 : (double)Counts.Values.Count(c => c == 1) / Distinct;

    /// <summary>Every non-empty value is a number.</summary>
    public bool IsNumeric { get; }

    /// <summary>Every non-empty value is a whole number written without a fraction.</summary>
    public bool IsInteger { get; }

    /// <summary>The non-empty values as numbers, sorted (numeric columns only).</summary>
    public IReadOnlyList<double> Numbers { get; } = [];

    /// <summary>Share of consecutive values (in file order) that do not decrease (numeric columns only).</summary>
    public double AscendingShare { get; }

    public double Quantile(double q) => Numbers.Count == 0 ? double.NaN : Numbers[(int)Math.Min(Numbers.Count - 1, Math.Floor(q * Numbers.Count))];

    /// <summary>A value for messages: the most frequent one.</summary>
    public string Example => Counts.Count == 0 ? "" : Counts.MaxBy(kv => kv.Value).Key;

    public IEnumerable<string> NonEmptyValues => Values.Select(v => v.Trim()).Where(v => v.Length > 0);
}
