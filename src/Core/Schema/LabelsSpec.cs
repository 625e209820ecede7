namespace Freshet.Model.Schema;

/// <summary>
/// The labels of a log. With <c>click</c>, every row is an impression (a CTR sample) and, when
/// <c>conversion</c> is also given, every clicked row is a CVR sample too. With only
/// <c>conversion</c>, every row is a click (a CVR sample).
/// </summary>
public sealed class LabelsSpec
{
    public LabelRule? Click { get; set; }

    public LabelRule? Conversion { get; set; }
}
