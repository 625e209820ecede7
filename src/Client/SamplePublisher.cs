using System.Diagnostics;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Samples;

namespace Freshet.Client;

/// <summary>
/// Publishes samples, in event-time order, to a job's sample streams: one CTR and one CVR stream per
/// trainer partition (a sample goes to the partition of its first id), in batches, through the job's
/// sample door (<see cref="ISampleIntakeGrain"/>: the cluster's streams are written by silos only). It keeps at most
/// <see cref="MaxInFlight"/> samples published but not yet taken off its streams by the partition's trainer (its own samples: other producers of the job do not count), so a fast replay
/// never outruns the trainers into unbounded queues; <c>speed</c> paces it on event time.
/// </summary>
public sealed class SamplePublisher(IClusterClient client, string job, int partitions)
{
    private readonly ISampleIntakeGrain _intake = IntakeOf(client, job);

    // The name is checked before the client is used, so a bad name is reported as one whatever the client.
    private static ISampleIntakeGrain IntakeOf(IClusterClient client, string job)
    {
        var name = Freshet.Model.Schema.NameRule.Check(job, "job");
        ArgumentNullException.ThrowIfNull(client);
        return client.GetGrain<ISampleIntakeGrain>(name);
    }

    /// <summary>Samples per stream message, at most (a message is also split to stay under <see cref="MaxPayloadBytes"/>).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Samples published to a partition and not yet taken off its streams by its trainer, at most: past it, publishing waits for the trainer.</summary>
    public long MaxInFlight { get; init; } = 16_384;

    /// <summary>
    /// Largest encoded batch per stream message; bigger batches are split. An Azure Queue message is at
    /// most 64 KB after base64, and an Event Hubs event 1 MB, so the default stays well under both.
    /// </summary>
    public int MaxPayloadBytes { get; init; } = 32 * 1024;

    /// <summary>Called after each batch published with the total so far.</summary>
    public Action<long>? Progress { get; init; }

    /// <summary>
    /// Set when the samples have a stable order (a log, replayed from its start: 0): the position (<c>Sample.Position</c>)
    /// of the first sample published. Each sample then goes out numbered with this plus its index in the sequence, the
    /// same on every replay, so a job restored from a checkpoint skips exactly what the checkpoint holds. Unset (live
    /// producers, whose calls do not continue one numbering): samples go out unnumbered and nothing is ever skipped.
    /// </summary>
    public long? FirstPosition { get; init; }

    /// <summary>
    /// Publishes every sample and, when <paramref name="end"/>, the end markers. <paramref name="speed"/>
    /// is event time per wall time (2 = twice as fast as the log happened); null is as fast as the trainers go.
    /// </summary>
    public async Task<long> PublishAsync(IEnumerable<Sample> samples, double? speed = null, bool end = true, Func<long, Task>? after = null, CancellationToken cancellationToken = default)
    {
        var trainers = client.Trainers(job, partitions).ToArray();
        var buffers = new List<Sample>[partitions, 2];
        var positions = new List<long>[partitions, 2];
        for (var p = 0; p < partitions; p++)
        {
            buffers[p, 0] = new List<Sample>(BatchSize);
            buffers[p, 1] = new List<Sample>(BatchSize);
            positions[p, 0] = new List<long>(BatchSize);
            positions[p, 1] = new List<long>(BatchSize);
        }
        var position = FirstPosition ?? 0;
        var published = new long[partitions];
        var trainedKnown = new long[partitions];
        long total = 0;
        long? firstTime = null;
        var clock = Stopwatch.StartNew();

        async Task Flush(int p, int t)
        {
            var buffer = buffers[p, t];
            if (buffer.Count == 0) return;
            if (published[p] - trainedKnown[p] > MaxInFlight)
            {
                trainedKnown[p] = await ThrottleAsync(trainers[p], published[p], cancellationToken);
            }
            await SendAsync(p, t == 0 ? TaskKind.Ctr : TaskKind.Cvr, buffer, positions[p, t]);
            published[p] += buffer.Count;
            total += buffer.Count;
            buffer.Clear();
            positions[p, t].Clear();
            Progress?.Invoke(total);
            if (after is not null) await after(total);
        }

        foreach (var s in samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (speed is { } x && x > 0)
            {
                firstTime ??= s.Time;
                var due = TimeSpan.FromTicks((long)((s.Time - firstTime.Value) / x));
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    for (var p = 0; p < partitions; p++)
                    {
                        await Flush(p, 0);
                        await Flush(p, 1);
                    }
                    await Task.Delay(wait, cancellationToken);
                }
            }
            var partition = SampleStreams.PartitionOf(s, partitions);
            var task = s.Task == TaskKind.Ctr ? 0 : 1;
            buffers[partition, task].Add(s);
            positions[partition, task].Add(position++);
            if (buffers[partition, task].Count >= BatchSize) await Flush(partition, task);
        }
        for (var p = 0; p < partitions; p++)
        {
            await Flush(p, 0);
            await Flush(p, 1);
            if (end)
            {
                await _intake.PublishAsync(p, TaskKind.Ctr, new SampleBatch { EndOfStream = true });
                await _intake.PublishAsync(p, TaskKind.Cvr, new SampleBatch { EndOfStream = true });
            }
        }
        return total;
    }

    private async Task SendAsync(int partition, TaskKind task, List<Sample> samples, List<long> positions)
    {
        var payload = SampleCodec.Encode(samples);
        if (payload.Length > MaxPayloadBytes && samples.Count > 1)
        {
            var half = samples.Count / 2;
            await SendAsync(partition, task, samples.GetRange(0, half), positions.GetRange(0, half));
            await SendAsync(partition, task, samples.GetRange(half, samples.Count - half), positions.GetRange(half, samples.Count - half));
            return;
        }
        await _intake.PublishAsync(partition, task, new SampleBatch { Payload = payload, Count = samples.Count, Positions = FirstPosition is null ? [] : [.. positions], Producer = _producer });
    }

    private readonly Guid _producer = Guid.NewGuid();

    /// <summary>This publisher, as its batches name it (<see cref="SampleBatch.Producer"/>): trainers count what each publisher's batches delivered (<see cref="ITrainerGrain.GetDeliveredAsync"/>).</summary>
    public Guid Producer => _producer;

    /// <summary>
    /// Waits until the trainer has taken this publisher's samples off its streams to within <see cref="MaxInFlight"/> of what
    /// was published (its own samples only: a feedback loop or another publisher feeding the same trainer does not count);
    /// returns what it has taken. A trainer's queue holds at most its capacity beyond that.
    /// </summary>
    private async Task<long> ThrottleAsync(ITrainerGrain trainer, long published, CancellationToken cancellationToken)
    {
        var delay = 2;
        while (true)
        {
            var progress = await trainer.GetDeliveredAsync(_producer);
            if (progress.Error is not null)
            {
                throw new InvalidOperationException($"trainer {trainer.GetPrimaryKeyString()} failed: {progress.Error}");
            }
            var done = progress.Delivered;
            if (published - done <= MaxInFlight / 2) return done;
            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(50, delay * 2);
        }
    }
}
