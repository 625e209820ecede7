using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Telemetry;
using Freshet.Samples;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using static Freshet.Grains.Persistence.ShutdownPolicy;

namespace Freshet.Grains.Feedback;

/// <summary>The samples the joiner makes, published onto the main job's streams; what a failed publish did not send is kept for the next.</summary>
public sealed partial class JoinerGrain
{
    /// <summary>
    /// Publishes samples onto the main job's streams, each to its trainer partition and task, after any an earlier
    /// publish left unsent. Samples are counted as they go out. A publish that fails (a silo dying under the stream)
    /// keeps what it did not send for the next publish, written with the state: rows held as pending always have
    /// their samples sent or waiting to be, never lost between the two.
    /// </summary>
    private async Task PublishAsync(List<Sample> ready)
    {
        if (_unsent.Count > 0)
        {
            ready.InsertRange(0, _unsent);
            _unsent = [];
        }
        if (ready.Count == 0) return;
        var config = _state.Config!;
        var provider = this.GetStreamProvider(FreshetNames.StreamProvider);
        var groups = ready.GroupBy(s => (Partition: SampleStreams.PartitionOf(s, config.Trainers), s.Task)).ToList();
        var published = 0;
        for (var g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            var stream = provider.GetStream<SampleBatch>(SampleStreams.Id(config.Job, group.Key.Partition, group.Key.Task));
            var chunks = group.Chunk(SamplesPerMessage).ToList();
            for (var c = 0; c < chunks.Count; c++)
            {
                try
                {
                    await stream.OnNextAsync(new SampleBatch { Payload = SampleCodec.Encode(chunks[c]), Count = chunks[c].Length, Origin = $"joiner {Key}" });
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Keep([.. chunks.Skip(c).SelectMany(x => x), .. groups.Skip(g + 1).SelectMany(x => x)], e);
                    if (published > 0) LogPublished(logger, Key.ToString(), published, config.Job);
                    return;
                }
                published += chunks[c].Length;
                instruments.FeedbackSamples.Add(chunks[c].Length, _tags.With("task", group.Key.Task.Name()));
                if (group.Key.Task == TaskKind.Ctr) _state.Counts.CtrSamples += chunks[c].Length;
                else _state.Counts.CvrSamples += chunks[c].Length;
            }
        }
        LogPublished(logger, Key.ToString(), published, config.Job);
    }

    /// <summary>Keeps samples a publish could not send for the next one (at most <see cref="MaxUnsent"/>, the newest).</summary>
    private void Keep(List<Sample> unsent, Exception why)
    {
        var dropped = Math.Max(0, unsent.Count - MaxUnsent);
        _unsent = dropped == 0 ? unsent : unsent[dropped..];
        _dirty = true;
        LogUnsent(logger, Key.ToString(), unsent.Count, why.Message, dropped);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Joiner {Joiner} could not publish {Count} samples ({Why}); they go out with its next publish ({Dropped} oldest dropped past the cap)")]
    private static partial void LogUnsent(ILogger logger, string joiner, int count, string why, int dropped);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Joiner {Joiner} published {Samples} samples to job {Job}")]
    private static partial void LogPublished(ILogger logger, string joiner, int samples, string job);
}
