namespace Freshet.Samples;

/// <summary>
/// Keys of a job's sample streams in namespace <c>samples</c>: <c>{job}/{partition}/ctr</c> and
/// <c>{job}/{partition}/cvr</c>, consumed by trainer <c>{job}/{partition}</c>.
/// </summary>
public static class SampleStreams
{
    public static string CtrKey(string job, int partition) => $"{new TrainerKey(job, partition)}/ctr";

    public static string CvrKey(string job, int partition) => $"{new TrainerKey(job, partition)}/cvr";
}
