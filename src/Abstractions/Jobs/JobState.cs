namespace Freshet.Jobs;

[GenerateSerializer, Alias("Freshet.Jobs.JobState")]
public enum JobState
{
    None,
    Created,
    Running,
    Paused,
    Stopped,
    Completed,
    Failed,
}
