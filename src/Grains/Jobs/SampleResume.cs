using Freshet.Grains.Streaming;
using Freshet.Model.Checkpoints;
using Freshet.Jobs;
using Freshet.Samples;
using Microsoft.Extensions.Logging;

namespace Freshet.Grains.Jobs;

/// <summary>Where a job restored from a checkpoint takes its sample streams up again: after what the checkpoint holds.</summary>
internal static partial class SampleResume
{
    /// <summary>
    /// Tells each trainer which samples of its streams to skip (none without <paramref name="positions"/>: a new job, or a
    /// checkpoint of another partition count), and has Event Hubs partitions read again from the checkpoint's offsets.
    /// </summary>
    public static async Task ResumeAsync(string job, IReadOnlyList<ITrainerGrain> trainers, (IReadOnlyDictionary<string, long> Positions, CheckpointManifest Manifest)? positions,
        SampleHubRewinder? rewinder, ILogger logger)
    {
        await Task.WhenAll(trainers.Select((t, p) =>
        {
            var mine = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (manifestKey, position) in positions?.Positions ?? new Dictionary<string, long>())
            {
                if (SampleStreams.TrySplitPositionKey(manifestKey, out var partition, out var key) && partition == p) mine[key] = position;
            }
            return t.SkipThroughAsync(mine);
        }));
        if (positions is { Manifest: var manifest }) await RewindHubsAsync(job, manifest, rewinder, logger);
    }

    /// <summary>
    /// Where the checkpoint holds samples of Event Hubs partitions, has those partitions read again from its resume
    /// offsets (azure profile); elsewhere the producer replays (freshet replay), and a source that cannot replay loses
    /// what came after the checkpoint (docs/RELIABILITY.md).
    /// </summary>
    private static async Task RewindHubsAsync(string job, CheckpointManifest manifest, SampleHubRewinder? rewinder, ILogger logger)
    {
        var resume = manifest.ResumeOffsets();
        if (resume.Count == 0) return;
        if (rewinder is null)
        {
            LogNoRewinder(logger, job, manifest.Model, manifest.Version, string.Join(", ", resume.Select(kv => $"{kv.Key} at {kv.Value}")));
            return;
        }
        var done = await rewinder.RewindAsync(resume);
        LogHubsRewound(logger, job, manifest.Model, manifest.Version, string.Join("; ", done));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} restored {Model} version {Version}: samples hubs read again: {Done}")]
    private static partial void LogHubsRewound(ILogger logger, string job, string model, long version, string done);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} restored {Model} version {Version}, which holds Event Hubs samples up to {Offsets}, but this silo reads no samples hubs: replay those partitions from there")]
    private static partial void LogNoRewinder(ILogger logger, string job, string model, long version, string offsets);
}
