using System.Globalization;

namespace Freshet.Model.Schema;

/// <summary>
/// A reference to a source column: <c>name</c>, <c>name:type</c> or <c>#index</c> (also <c>#index:type</c>).
/// The text is split at its last colon only when what follows is a column type (<see cref="Types"/>), so a
/// header name with colons is written as it is (<c>ts:utc</c>, <c>a:b:c</c>, or typed, <c>a:b:c:float</c>).
/// A name that itself ends in a colon and a type name (a column called <c>count:int</c>) is followed by its
/// own type, or by an empty one for none: <c>count:int:token</c>, <c>count:int:</c>.
/// </summary>
public sealed record ColumnRef(string Name, int? Index, string? Type)
{
    public static readonly IReadOnlySet<string> Types = new HashSet<string>(StringComparer.Ordinal) { "token", "string", "int", "long", "float" };

    /// <summary>How to name a column whose name has a colon, for messages.</summary>
    public const string ColonRule =
        "a reference is split at its last ':' only when a column type follows (token, string, int, long, float): name a column with ':' in it as it is ('ts:utc', or 'ts:utc:token' with a type); a name ending in ':' and a type name takes its own type, or an empty one, after it ('count:int:token', 'count:int:')";

    public static ColumnRef Parse(string text)
    {
        var name = text;
        string? type = null;
        var colon = text.LastIndexOf(':');
        if (colon > 0)
        {
            var suffix = text[(colon + 1)..];
            if (suffix.Length == 0 || Types.Contains(suffix))
            {
                name = text[..colon];
                type = suffix.Length == 0 ? null : suffix;
            }
        }
        int? index = null;
        if (name.Length > 1 && name[0] == '#' && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
        {
            index = i;
        }
        return new ColumnRef(name, index, type);
    }

    /// <summary>The reference text that <see cref="Parse"/> reads back as <paramref name="name"/> with <paramref name="type"/> (a known type or null).</summary>
    public static string Format(string name, string? type = null)
    {
        if (type is not null)
        {
            return $"{name}:{type}";
        }
        // A name that would lose its last part to the type (or to the empty type) gets an empty type after it.
        return Parse(name).Name == name ? name : name + ":";
    }

    public bool IsNumericType => Type is "int" or "long" or "float";

    public override string ToString() => Format(Name, Type);

    /// <summary>
    /// Why a reference may have missed a column of <paramref name="columns"/> when it was read differently than meant,
    /// as a sentence to append to a "column not found" message; empty when nothing suggests it.
    /// </summary>
    public string NotFoundHint(IReadOnlyCollection<string> columns)
    {
        if (Type is not null && columns.Contains($"{Name}:{Type}"))
        {
            return $"; the column '{Name}:{Type}' exists: a name ending in ':{Type}' is followed by its own type or an empty one ('{Name}:{Type}:token', '{Name}:{Type}:')";
        }
        var colon = Name.LastIndexOf(':');
        if (Type is null && colon > 0 && columns.Contains(Name[..colon]))
        {
            return $"; '{Name[(colon + 1)..]}' is not a column type (token, string, int, long, float), so '{Name}' was read as a column name with a colon; to name column '{Name[..colon]}' with a type, use one of those";
        }
        return columns.Any(c => c.Contains(':', StringComparison.Ordinal)) ? $"; {ColonRule}" : "";
    }
}
