using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Model.Sequences;

/// <summary>
/// A sequence field as the samples hold it: its bag, the id field whose key it is kept for (<paramref name="Key"/>, an index
/// of <see cref="FeatureLayout.IdFields"/>), the id field whose values it records (<paramref name="Value"/>), what it
/// records and its bounds.
/// </summary>
public sealed record SequenceField(string Name, int Bag, int Key, int Value, SequenceEvent Event, int Length, long ExpireTicks, long MaxKeys)
{
    /// <summary>The most keys one sequence keeps when the schema gives no <c>maxRows</c>.</summary>
    public const long DefaultMaxKeys = 1_000_000;

    /// <summary>The layout's sequence fields, in bag order.</summary>
    public static IReadOnlyList<SequenceField> Of(FeatureLayout layout)
    {
        var idNames = layout.IdFields.Select(f => f.Field.Name).ToList();
        return [.. layout.BagFields
            .Select((slot, bag) => (slot.Field, Bag: bag))
            .Where(x => x.Field.Kind == FieldKind.Sequence)
            .Select(x => new SequenceField(
                x.Field.Name,
                x.Bag,
                idNames.IndexOf(x.Field.Of!),
                idNames.IndexOf(x.Field.From!),
                (x.Field.Event ?? "click") switch { "impression" => SequenceEvent.Impression, "conversion" => SequenceEvent.Conversion, _ => SequenceEvent.Click },
                x.Field.MaxLength ?? FeatureLayout.DefaultSequenceLength,
                x.Field.ExpireAfter is { } e ? Durations.Parse(e, $"field '{x.Field.Name}' expireAfter").Ticks : long.MaxValue,
                x.Field.MaxRows ?? DefaultMaxKeys))];
    }

    /// <summary>Whether a sample of <paramref name="task"/> adding count event <paramref name="e"/> (<see cref="LabelEvents"/>) records a value in this field.</summary>
    public bool Records(TaskKind task, CountEvent e, TaskKind firstTask) => Event switch
    {
        SequenceEvent.Impression => e.Samples > 0 && task == firstTask,
        SequenceEvent.Click => e.Positives > 0 && task == TaskKind.Ctr,
        _ => e.Positives > 0 && task == TaskKind.Cvr,
    };
}
