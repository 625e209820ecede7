using System.Text.Json.Serialization;

namespace Freshet.Model.Schema;

/// <summary>
/// The contract between a log and a model (DESIGN.md section 5): where rows come from, the event
/// time, the labels, and the fields with their tiers. Load with <see cref="SchemaLoader"/>.
/// </summary>
public sealed class FeatureSchema
{
    public string Name { get; set; } = "";

    public SourceSpec Source { get; set; } = new();

    public TimeSpec? Time { get; set; }

    public LabelsSpec Labels { get; set; } = new();

    public List<FieldSpec> Fields { get; set; } = [];

    /// <summary>Column whose values group samples for group AUC (MIND: the impression id).</summary>
    public string? Group { get; set; }

    public BaselineSpec? Baseline { get; set; }

    /// <summary>Columns that carry the true probabilities (simulated logs), for the oracle AUC.</summary>
    public OracleSpec? Oracle { get; set; }

    /// <summary>Lets a streaming job use time features; they over-fit to the time slot being trained on.</summary>
    public bool AllowTimeFeatures { get; set; }

    public ModelSpec Model { get; set; } = new();

    /// <summary>The file the schema was read from, for messages.</summary>
    [JsonIgnore]
    public string Origin { get; set; } = "(inline)";

    /// <summary>The schema's JSON text as read, stored in checkpoints.</summary>
    [JsonIgnore]
    public string Json { get; set; } = "";

    [JsonIgnore]
    public bool HasClicks => Labels.Click is not null;

    [JsonIgnore]
    public bool HasConversions => Labels.Conversion is not null;

    /// <summary>The field whose running rate is the counting baseline for a label; default the first frozen id field.</summary>
    public string? BaselineField(bool conversion)
    {
        var named = conversion ? Baseline?.Conversion : Baseline?.Click;
        if (!string.IsNullOrEmpty(named))
        {
            return named;
        }
        return Fields.FirstOrDefault(f => f.Kind == FieldKind.Id && f.Tier == Schema.Tier.Frozen)?.Name
            ?? Fields.FirstOrDefault(f => f.Kind == FieldKind.Id)?.Name;
    }
}
