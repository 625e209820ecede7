namespace Freshet.Admin;

/// <summary>
/// The limits of what an admin call carries: the names of jobs and models (grain keys, which also name
/// folders and blobs) and the size of a spec's schema. One rule, used by the client before it sends, by the
/// silo's client boundary on every admin call, and by the spec rules.
/// </summary>
public static class AdminLimits
{
    /// <summary>Characters of a job's or model's name (<see cref="Freshet.Model.Schema.NameRule"/>).</summary>
    public const int MaxNameLength = Freshet.Model.Schema.NameRule.MaxLength;

    /// <summary>Characters of a schema carried by a job or deployment spec.</summary>
    public const int MaxSchemaLength = 1 << 20;

    /// <summary>What is wrong with <paramref name="name"/> as the name of a <paramref name="what"/> (job, model), or null: <see cref="Freshet.Model.Schema.NameRule"/>.</summary>
    public static string? Name(string? name, string what) => Freshet.Model.Schema.NameRule.Problem(name, what);

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong with the name, if anything.</summary>
    public static string CheckName(string? name, string what) => Freshet.Model.Schema.NameRule.Check(name, what);

    /// <summary>What is wrong with the size of a spec's schema, or null.</summary>
    public static string? Schema(string? schemaJson) =>
        schemaJson is { Length: > MaxSchemaLength } ? $"schemaJson: {schemaJson.Length} characters; at most {MaxSchemaLength}" : null;
}
