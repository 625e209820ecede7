using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Freshet.Feedback;

/// <summary>
/// Names one scored row: the model, the joiner partition that holds what serving answered, and a unique value.
/// Its text form, <c>{model}/{joiner}/{32 hex digits}</c>, is what an application keeps (in a click URL, an order)
/// and hands back with <c>FreshetClient.ReportAsync</c>; it routes the label to its joiner with nothing else to look up.
/// </summary>
[GenerateSerializer, Immutable, Alias("freshet.prediction-id")]
public readonly record struct PredictionId
{
    public PredictionId(string model, int joiner, Guid value)
    {
        Model = model;
        Joiner = joiner;
        Value = value;
    }

    [Id(0)] public string Model { get; init; }

    [Id(1)] public int Joiner { get; init; }

    [Id(2)] public Guid Value { get; init; }

    /// <summary>A new id for a row of <paramref name="model"/>, on the joiner its value hashes to.</summary>
    public static PredictionId New(string model, int joiners)
    {
        var value = Guid.NewGuid();
        return new PredictionId(model, JoinerOf(value, joiners), value);
    }

    /// <summary>The joiner partition of a value: its first 8 bytes modulo the joiner count.</summary>
    public static int JoinerOf(Guid value, int joiners)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        return joiners <= 1 ? 0 : (int)(BitConverter.ToUInt64(bytes) % (ulong)joiners);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Model}/{Joiner}/{Value:N}");

    public static bool TryParse([NotNullWhen(true)] string? text, out PredictionId id)
    {
        id = default;
        if (text is null) return false;
        var last = text.LastIndexOf('/');
        var middle = last > 0 ? text.LastIndexOf('/', last - 1) : -1;
        if (middle <= 0
            || !int.TryParse(text.AsSpan(middle + 1, last - middle - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var joiner)
            || joiner >= FeedbackSpec.MaxJoiners
            || !Guid.TryParseExact(text.AsSpan(last + 1), "N", out var value)
            || !Freshet.Model.Schema.NameRule.IsValid(text[..middle]))
        {
            return false;
        }
        id = new PredictionId(text[..middle], joiner, value);
        return true;
    }

    /// <exception cref="FormatException">The text is not a prediction id: a model's name (<see cref="Freshet.Model.Schema.NameRule"/>), a joiner below <see cref="FeedbackSpec.MaxJoiners"/> and 32 hex digits.</exception>
    public static PredictionId Parse(string text) => TryParse(text, out var id)
        ? id
        : throw new FormatException($"'{(text?.Length > 200 ? text[..200] + "..." : text)}' is not a prediction id; one reads {{model}}/{{joiner}}/{{32 hex digits}}, as Prediction.Id.ToString() writes it");
}
