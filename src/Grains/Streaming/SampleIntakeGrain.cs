using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Samples;
using Orleans.Concurrency;

namespace Freshet.Grains.Streaming;

/// <summary>
/// Applications' door onto a job's sample streams (<see cref="ISampleIntakeGrain"/>): a stateless worker, so each batch is
/// written by the silo whose gateway took it, on the silos' own stream provider. It writes samples and end markers; raw
/// rows and a hub's positions come from the samples hubs' adapter only (a producer that set them could move what a
/// restored job skips).
/// </summary>
[StatelessWorker]
public sealed class SampleIntakeGrain : Grain, ISampleIntakeGrain
{
    public Task PublishAsync(int partition, TaskKind task, SampleBatch batch)
    {
        var job = this.GetPrimaryKeyString();
        if (partition is < 0 or >= JobSpecRules.MaxTrainers) throw new JobRequestException($"job '{job}': partition {partition} is out of range; a job's trainer partitions are 0..{JobSpecRules.MaxTrainers - 1}");
        if (!Enum.IsDefined(task)) throw new JobRequestException($"job '{job}': task {(int)task} is not a task; use ctr or cvr");
        if (batch is null) throw new JobRequestException($"job '{job}': no batch; publish samples with SamplePublisher");
        if (batch.Rows.Length > 0 || batch.Source is not null || batch.SourceOffset is not null)
        {
            throw new JobRequestException($"job '{job}': a published batch carries featurized samples (Payload) or the end marker; raw rows and a hub's source come from the samples hubs (docs/PRODUCERS.md)");
        }
        return this.GetStreamProvider(FreshetNames.StreamProvider).GetStream<SampleBatch>(SampleStreams.Id(job, partition, task)).OnNextAsync(batch);
    }
}
