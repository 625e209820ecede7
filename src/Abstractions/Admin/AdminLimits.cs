namespace Freshet.Admin;

/// <summary>
/// The limits of what an admin call carries: the names of jobs and models (grain keys, which also name
/// folders and blobs) and the size of a spec's schema. One rule, used by the client before it sends, by the
/// silo's client boundary on every admin call, and by the spec rules.
/// </summary>
public static class AdminLimits
{
    /// <summary>Characters of a job's or model's name.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Characters of a schema carried by a job or deployment spec.</summary>
    public const int MaxSchemaLength = 1 << 20;

    /// <summary>What is wrong with <paramref name="name"/> as the name of a <paramref name="what"/> (job, model), or null.</summary>
    public static string? Name(string? name, string what)
    {
        if (string.IsNullOrWhiteSpace(name)) return $"{what}: give a name";
        if (name.Length > MaxNameLength) return $"{what} '{name[..32]}...': {name.Length} characters; at most {MaxNameLength}";
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return $"{what} '{name}': the character '{c}' is not allowed; use letters, digits, '-', '_' and '.'";
            }
        }
        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong with the name, if anything.</summary>
    public static string CheckName(string? name, string what) => Name(name, what) is { } problem ? throw new ArgumentException(problem) : name!;

    /// <summary>What is wrong with the size of a spec's schema, or null.</summary>
    public static string? Schema(string? schemaJson) =>
        schemaJson is { Length: > MaxSchemaLength } ? $"schemaJson: {schemaJson.Length} characters; at most {MaxSchemaLength}" : null;
}
