using System.Text.Json.Serialization;

namespace Freshet.Model.Schema;

/// <summary>How a label is read from a column: exactly one of <c>equals</c>, <c>atLeast</c>, <c>nonEmpty</c>.</summary>
public sealed class LabelRule
{
    public string Column { get; set; } = "";

    [JsonPropertyName("equals")]
    public string? EqualsValue { get; set; }

    public double? AtLeast { get; set; }

    public bool? NonEmpty { get; set; }

    /// <summary>Column holding the time the conversion happened (its delay after the click).</summary>
    public string? DelayColumn { get; set; }
}
