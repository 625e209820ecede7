
namespace Freshet.Feedback;

/// <summary>The key of a model's joiner partition: <c>{model}/{joiner}</c>.</summary>
public readonly record struct JoinerKey(string Model, int Joiner)
{
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Model}/{Joiner}");

    /// <summary>The key's parts; a joiner's key is a client's door (labels), so its model's name follows <see cref="Freshet.Model.Schema.NameRule"/>.</summary>
    public static JoinerKey Parse(string key) =>
        GrainKeys.TrySplit(key, out var model, out var joiner) && joiner < FeedbackSpec.MaxJoiners
            ? new JoinerKey(Freshet.Model.Schema.NameRule.Check(model, "model"), joiner)
            : throw new ArgumentException($"joiner key '{key}' is not '{{model}}/{{joiner}}' with a joiner below {FeedbackSpec.MaxJoiners}", nameof(key));
}
