using Freshet.Admin;
using Orleans.Concurrency;

namespace Freshet.Jobs;

/// <summary>
/// One per job and partition (key: <c>{job}/{partition}</c>): consumes that partition's CTR and CVR
/// sample streams and runs the training step against the cluster parameter store, off the
/// Orleans scheduler.
/// </summary>
[Alias("Freshet.Jobs.ITrainerGrain")]
public interface ITrainerGrain : IGrainWithStringKey
{
    [Alias("Start")] Task StartAsync(JobSpec spec);

    /// <summary>
    /// Samples at or before these positions (per task: <c>ctr</c>, <c>cvr</c>) are skipped on arrival from now on: the
    /// checkpoint the job was restored from holds their effect. Empty: nothing is skipped.
    /// </summary>
    [Alias("SkipThrough")] Task SkipThroughAsync(IReadOnlyDictionary<string, long> positions);

    /// <summary>Stops at the next step boundary; returns the steps done.</summary>
    [Alias("Pause")] Task<long> PauseAsync();

    [AlwaysInterleave, Alias("Resume")] Task ResumeAsync();

    [Alias("Stop")] Task StopAsync();

    [ClientCallable(ClientAccess.Read), AlwaysInterleave, Alias("GetStatus")] Task<TrainerStatus> GetStatusAsync();

    /// <summary>The progressive-validation report so far (JSON of the in-process trainer's report).</summary>
    [ClientCallable(ClientAccess.Read), Alias("GetReport")] Task<string> GetReportJsonAsync();

    /// <summary>
    /// How many samples of <paramref name="producer"/>'s batches (<see cref="Samples.SampleBatch.Producer"/>) this trainer has
    /// taken off its streams since it started (queued, shed, skipped or refused alike), and its error if it failed: what a
    /// publisher's flow control waits on.
    /// </summary>
    [ClientCallable(ClientAccess.Read), AlwaysInterleave, Alias("GetDelivered")] Task<ProducerProgress> GetDeliveredAsync(Guid producer);
}
