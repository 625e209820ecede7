using Freshet.Admin;
using Freshet.Model.Data;

namespace Freshet.Samples;

/// <summary>
/// Where an application publishes samples to a job (the SDK's <c>SamplePublisher</c>), keyed by the job: it writes each
/// batch on the job's sample stream of that trainer partition and task. The cluster's streams are written by silos only
/// (a client registers no stream provider, and Orleans' stream plumbing refuses clients), so this is how a producing
/// client reaches a trainer: through a door that writes nothing but samples, on nothing but sample streams.
/// </summary>
[ClientCallable(ClientAccess.Produce, KeyNames = "job")]
[Alias("Freshet.Samples.ISampleIntakeGrain")]
public interface ISampleIntakeGrain : IGrainWithStringKey
{
    /// <summary>
    /// Publishes <paramref name="batch"/> (featurized samples as <c>SampleCodec</c> bytes, or the end marker) on stream
    /// <c>samples/{job}/{partition}/{task}</c>, in the order of the calls of one caller that waits for each.
    /// </summary>
    /// <exception cref="Jobs.JobRequestException">The partition is not one a job may have (0 to <see cref="Jobs.JobSpecRules.MaxTrainers"/> - 1), the task is unknown, or the batch carries raw rows or a hub's source (those come from the samples hubs only).</exception>
    [Alias("Publish")] Task PublishAsync(int partition, TaskKind task, SampleBatch batch);
}
