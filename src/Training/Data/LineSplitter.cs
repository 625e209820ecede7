using System.Text;

namespace Freshet.Model.Data;

/// <summary>Splits a delimited line; with a quote character, quoted fields may hold the delimiter and doubled quotes.</summary>
public sealed class LineSplitter
{
    private readonly string _delimiter;
    private readonly char? _quote;
    private readonly StringBuilder _field = new();

    public LineSplitter(string delimiter, string? quote)
    {
        _delimiter = delimiter;
        _quote = string.IsNullOrEmpty(quote) ? null : quote[0];
    }

    public string[] Split(string line)
    {
        if (_quote is null || line.IndexOf(_quote.Value) < 0)
        {
            return _delimiter.Length == 1 ? line.Split(_delimiter[0]) : line.Split(_delimiter);
        }
        var q = _quote.Value;
        var result = new List<string>();
        _field.Clear();
        var inQuotes = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (inQuotes)
            {
                if (c == q && i + 1 < line.Length && line[i + 1] == q) { _field.Append(q); i++; }
                else if (c == q) inQuotes = false;
                else _field.Append(c);
            }
            else if (c == q && _field.Length == 0) inQuotes = true;
            else if (string.CompareOrdinal(line, i, _delimiter, 0, _delimiter.Length) == 0)
            {
                result.Add(_field.ToString());
                _field.Clear();
                i += _delimiter.Length - 1;
            }
            else _field.Append(c);
        }
        result.Add(_field.ToString());
        return [.. result];
    }
}
