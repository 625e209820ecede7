
namespace Freshet.Grains.Feedback;

/// <summary>The label router: no calls of its own; it lives on its stream.</summary>
[Alias("Freshet.Feedback.ILabelRouterGrain")]
public interface ILabelRouterGrain : IGrainWithStringKey;
