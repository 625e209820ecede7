namespace Freshet.Model.Schema;

/// <summary>
/// The one rule for the names of models and jobs, wherever a name arrives (a schema, an admin call, a scoring
/// request, a label, a sample stream, a checkpoint store): 1 to <see cref="MaxLength"/> characters of a-z, 0-9,
/// '-' and '_', starting with a letter or a digit. A name is a grain key, a stream key, a folder and a blob prefix,
/// so it never holds a separator, a dot or anything a path or a URL would read differently.
/// </summary>
public static class NameRule
{
    /// <summary>Characters of a name, at most.</summary>
    public const int MaxLength = 64;

    /// <summary>The rule in words, for messages.</summary>
    public const string Description = "1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or a digit";

    public static bool IsValid(string? name) => Problem(name, "name") is null;

    /// <summary>What is wrong with <paramref name="name"/> as the name of a <paramref name="what"/> (model, job), or null.</summary>
    public static string? Problem(string? name, string what)
    {
        if (string.IsNullOrEmpty(name)) return $"{what}: give a name ({Description})";
        if (name.Length > MaxLength) return $"{what} '{name[..32]}...': {name.Length} characters; a name is {Description}";
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            {
                return $"{what} '{Shown(name)}': the character '{Shown(c.ToString())}' is not allowed; a name is {Description}";
            }
        }
        if (!char.IsAsciiLetterOrDigit(name[0])) return $"{what} '{name}': starts with '{name[0]}'; a name is {Description}";
        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong with the name, if anything; else returns it.</summary>
    public static string Check(string? name, string what) => Problem(name, what) is { } problem ? throw new ArgumentException(problem) : name!;

    /// <summary>Control characters escaped, so a message shows what arrived.</summary>
    private static string Shown(string s) => string.Concat(s.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
