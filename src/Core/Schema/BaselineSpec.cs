namespace Freshet.Model.Schema;

/// <summary>Which field's running empirical rate is the counting baseline, per label.</summary>
public sealed class BaselineSpec
{
    public string? Click { get; set; }

    public string? Conversion { get; set; }
}
