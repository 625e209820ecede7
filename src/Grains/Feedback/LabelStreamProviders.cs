
namespace Freshet.Grains.Feedback;

/// <summary>Which stream providers carry label streams: the main one always; the azure profile adds the labels hub's.</summary>
public sealed record LabelStreamProviders(IReadOnlyList<string> Names)
{
    public const string LabelsHub = "labels-hub";

    public static readonly LabelStreamProviders Default = new([FreshetNames.StreamProvider]);

    public static readonly LabelStreamProviders EventHubs = new([FreshetNames.StreamProvider, LabelsHub]);
}
