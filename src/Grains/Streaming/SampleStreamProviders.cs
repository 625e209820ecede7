using Freshet.Model.Data;
namespace Freshet.Grains.Streaming;

/// <summary>
/// Which stream providers carry a trainer's CTR and CVR samples besides <see cref="FreshetNames.StreamProvider"/>
/// (which always does: <c>freshet replay</c> publishes there). The local and azurite profiles have that one provider;
/// the azure profile adds one Event Hubs provider per samples hub, fed by plain JSON producers.
/// </summary>
public sealed record SampleStreamProviders(string Ctr, string Cvr)
{
    public const string CtrSamples = "samples-ctr";
    public const string CvrSamples = "samples-cvr";

    public static readonly SampleStreamProviders Default = new(FreshetNames.StreamProvider, FreshetNames.StreamProvider);

    public static readonly SampleStreamProviders EventHubs = new(CtrSamples, CvrSamples);

    /// <summary>Providers to subscribe to for one task: the main provider, then the task's own when it has one.</summary>
    public IReadOnlyList<string> For(TaskKind task)
    {
        var own = task == TaskKind.Cvr ? Cvr : Ctr;
        return own == FreshetNames.StreamProvider ? [FreshetNames.StreamProvider] : [FreshetNames.StreamProvider, own];
    }
}
