using Freshet.Feedback;
using Freshet.Model.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Freshet.Grains.Feedback;

/// <summary>
/// Sends the labels of one label stream (<c>labels/{source}</c>) to the joiners their prediction ids name. Activated by
/// the stream (an implicit subscription); a label its joiner refuses (the model has no feedback loop) is counted and
/// logged, never thrown back into the stream, so one bad producer cannot stall a hub partition.
/// </summary>
[ImplicitStreamSubscription(LabelStreams.Namespace)]
public sealed partial class LabelRouterGrain(IGrainFactory grains, LabelStreamProviders providers, FreshetInstruments instruments, ILogger<LabelRouterGrain> logger)
    : Grain, ILabelRouterGrain, IStreamSubscriptionObserver
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        if (!providers.Names.Contains(handleFactory.ProviderName)) return;
        await handleFactory.Create<LabelBatch>().ResumeAsync(OnNextAsync);
    }

    private async Task OnNextAsync(LabelBatch batch, StreamSequenceToken? token)
    {
        foreach (var group in batch.Labels.GroupBy(l => (l.Prediction.Model, l.Prediction.Joiner)))
        {
            try
            {
                await grains.Joiner(group.Key.Model, group.Key.Joiner).LabelAsync([.. group]);
            }
            catch (FeedbackException e)
            {
                instruments.Labels.Add(group.Count(), FreshetTags.Of(group.Key.Model).With("outcome", "refused"));
                LogRefused(logger, group.Count(), group.Key.Model, batch.Origin ?? this.GetPrimaryKeyString(), e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Labels} labels for model {Model} from {Origin} were refused: {Problem}")]
    private static partial void LogRefused(ILogger logger, int labels, string model, string origin, string problem);
}
