using System.Globalization;

namespace Freshet.Model.Schema;

/// <summary>A reference to a source column: <c>name</c>, <c>name:type</c> or <c>#index</c>.</summary>
public sealed record ColumnRef(string Name, int? Index, string? Type)
{
    public static readonly IReadOnlySet<string> Types = new HashSet<string>(StringComparer.Ordinal) { "token", "string", "int", "long", "float" };

    public static ColumnRef Parse(string text)
    {
        var name = text;
        string? type = null;
        var colon = text.LastIndexOf(':');
        if (colon > 0)
        {
            name = text[..colon];
            type = text[(colon + 1)..];
        }
        int? index = null;
        if (name.Length > 1 && name[0] == '#' && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
        {
            index = i;
        }
        return new ColumnRef(name, index, type);
    }

    public bool IsNumericType => Type is "int" or "long" or "float";

    public override string ToString() => Type is null ? Name : $"{Name}:{Type}";
}
