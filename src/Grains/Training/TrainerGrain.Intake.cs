using System.Threading.Channels;
using Freshet.Grains.Streaming;
using Freshet.Model.Data;
using Freshet.Model.Serving;
using Freshet.Model.Telemetry;
using Freshet.Model.Training;
using Freshet.Samples;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Freshet.Grains.Training;

/// <summary>What the trainer's streams deliver: batches decoded (or plain rows featurized), each sample checked and positioned, then queued for the training loop with the stream pushed back or the excess shed.</summary>
public sealed partial class TrainerGrain
{
    /// <summary>
    /// Gives a decoded sample its position and says whether to train it: not if the checkpoint this job was restored from
    /// holds it already (the producer replays from before it), which is counted.
    /// </summary>
    private bool Take(Sample sample, SampleBatch batch, int index, TaskKind task)
    {
        if (Clock.IsAhead(sample.Time))
        {
            // Ahead of this silo's clock by more than the skew allowed: it would move the job's event time there.
            var n = Interlocked.Increment(ref _timesRejected);
            Clock.Rejected(state.State.Spec?.Model ?? Key, "sample");
            if (n <= 100 || n % 1000 == 0) LogTimeRejected(logger, Key, batch.Origin ?? "?", n, Clock.MaxSkew);
            return false;
        }
        if (index < batch.Positions.Length)
        {
            sample.Position = batch.Positions[index];
            sample.Source = batch.Source;
            sample.SourceOffset = batch.SourceOffset;
        }
        return _replay.Take(sample, task, state.State.SkipThrough);
    }

    private async Task SubscribeAsync(IAsyncStream<SampleBatch> stream, Channel<Sample> channel, TaskKind task)
    {
        async Task OnNext(SampleBatch batch, StreamSequenceToken? token)
        {
            try
            {
                var taken = new List<Sample>(Math.Min(Math.Max(batch.Count, batch.Rows.Length), 4096)); // a count from the wire is a hint, never an allocation
                if (batch.Rows.Length > 0)
                {
                    Featurize(batch, task, taken);
                }
                else if (batch.Count > 0)
                {
                    var i = 0;
                    List<Sample> decoded;
                    try
                    {
                        decoded = SampleCodec.Decode(batch.Payload);
                    }
                    catch (InvalidDataException e)
                    {
                        // A producer's bad batch is dropped and counted, not thrown back into the stream (it would stall it).
                        Interlocked.Add(ref _rejected, batch.Count);
                        var n = Interlocked.Increment(ref _undecodable);
                        instruments.SamplesRejected.Add(batch.Count, _tags.With("hub", "trainer").With("reason", "decode"));
                        if (n <= 100 || n % 1000 == 0) LogBadBatch(logger, Key, batch.Origin ?? "?", n, e.Message);
                        return;
                    }
                    foreach (var s in decoded)
                    {
                        if (Take(s, batch, i++, task)) taken.Add(s);
                    }
                }
                Interlocked.Add(ref _received, await EnqueueAsync(channel.Writer, taken, batch, task));
                if (_replay.SkipListChanged)
                {
                    _replay.SkipListChanged = false;
                    await state.WriteStateAsync();
                }
                if (batch.EndOfStream) channel.Writer.TryComplete();
            }
            finally
            {
                // A publisher waits on what its own batches delivered (queued, shed, skipped or refused alike).
                if (batch.Producer != Guid.Empty) _delivered.Add(batch.Producer, Math.Max(0, batch.Count));
            }
        }

        Task OnError(Exception e)
        {
            // The stream skipped what it could not deliver (its cache no longer held it): those samples are lost to
            // training, so it is counted and said, never silent.
            var n = Interlocked.Increment(ref _streamErrors);
            instruments.SamplesRejected.Add(1, _tags.With("hub", "trainer").With("reason", "stream-error"));
            if (n <= 100 || n % 1000 == 0) LogStreamError(logger, e, Key, task.Name(), n);
            return Task.CompletedTask;
        }
        await StreamSubscriptions.ResumeOrSubscribeAsync(stream, OnNext, onError: OnError);
    }

    /// <summary>
    /// Puts a delivery's samples on its task's queue, waiting for room while it is full (the stream waits with it) for at
    /// most <see cref="ShedAfter"/>; what is left then, or once the loop has ended, is shed and counted. Returns the
    /// samples queued.
    /// </summary>
    private async Task<int> EnqueueAsync(ChannelWriter<Sample> writer, List<Sample> samples, SampleBatch batch, TaskKind task)
    {
        var queued = 0;
        long? since = null;
        foreach (var s in samples)
        {
            while (!writer.TryWrite(s))
            {
                since ??= System.Diagnostics.Stopwatch.GetTimestamp();
                var left = ShedAfter - System.Diagnostics.Stopwatch.GetElapsedTime(since.Value);
                var room = false;
                if (left > TimeSpan.Zero)
                {
                    using var wait = new CancellationTokenSource(left);
                    try
                    {
                        room = await writer.WaitToWriteAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (wait.IsCancellationRequested)
                    {
                    }
                }
                if (!room)
                {
                    var shed = samples.Count - queued;
                    var total = Interlocked.Add(ref _shed, shed);
                    instruments.SamplesRejected.Add(shed, _tags.With("hub", "trainer").With("reason", "queue-full"));
                    LogShed(logger, Key, shed, task.Name(), batch.Origin ?? "a stream", left > TimeSpan.Zero ? "the trainer has stopped" : $"its queue stayed full ({QueueCapacity:N0} samples) for {ShedAfter.TotalSeconds:F0} s", total);
                    return queued;
                }
            }
            queued++;
        }
        return queued;
    }

    /// <summary>
    /// Raw rows (plain JSON producers) featurized with this job's schema; a row the schema refuses (an unknown
    /// field, a number that is not one) is skipped, counted and logged with where it came from, never failing the job.
    /// </summary>
    private void Featurize(SampleBatch batch, TaskKind task, List<Sample> taken)
    {
        for (var at = 0; at < batch.Rows.Length; at++)
        {
            var row = batch.Rows[at];
            Sample sample;
            try
            {
                sample = _raw!.FeaturizeRow(row.Fields, row.Index, task, new DateTime(row.Time, DateTimeKind.Utc), row.Label);
            }
            catch (ArgumentException e)
            {
                var n = Interlocked.Increment(ref _rejected);
                instruments.SamplesRejected.Add(1, _tags.With("hub", "trainer").With("reason", "schema"));
                // The first bad rows in full, then one in a thousand: a producer out of step with the schema must not flood the log.
                if (n <= 100 || n % 1000 == 0) LogBadRow(logger, Key, batch.Origin ?? "?", row.Index, n, e.Message);
                continue;
            }
            if (!Take(sample, batch, at, task)) continue;
            taken.Add(sample);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer}: its {Task} sample stream delivered an error instead of a batch ({Count} so far): the samples in what it skipped never reach training")]
    private static partial void LogStreamError(ILogger logger, Exception error, string trainer, string task, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} skipped a plain JSON sample ({Origin}, row {Row}; {Rejected} skipped so far): {Problem}; fix the producer's fields to match the job's schema")]
    private static partial void LogBadRow(ILogger logger, string trainer, string origin, int row, long rejected, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} shed {Shed} {Task} samples from {Origin}: {Why} ({Total} shed so far); the producers outrun training: add trainers (partitions) or slow the producers")]
    private static partial void LogShed(ILogger logger, string trainer, int shed, string task, string origin, string why, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} dropped a sample from {Origin} whose time is more than {Skew} ahead of its clock ({Rejected} so far); fix the producer's clock")]
    private static partial void LogTimeRejected(ILogger logger, string trainer, string origin, long rejected, TimeSpan skew);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer {Trainer} dropped a sample batch from {Origin} that does not decode ({Batches} so far): {Problem}")]
    private static partial void LogBadBatch(ILogger logger, string trainer, string origin, long batches, string problem);
}
