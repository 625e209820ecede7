namespace Freshet.Samples;

/// <summary>
/// Keys of a job's sample streams in namespace <c>samples</c>: <c>{job}/{partition}/ctr</c> and
/// <c>{job}/{partition}/cvr</c>, consumed by trainer <c>{job}/{partition}</c>.
/// </summary>
public static class SampleStreams
{
    public static string CtrKey(string job, int partition) => $"{job}/{partition}/ctr";

    public static string CvrKey(string job, int partition) => $"{job}/{partition}/cvr";

    public static string TrainerKey(string job, int partition) => $"{job}/{partition}";
}
