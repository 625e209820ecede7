namespace Freshet.Grains.Streaming;

/// <summary>The task names of the plain JSON format and of sample stream keys.</summary>
public static class SampleTasks
{
    public const string Ctr = "ctr";
    public const string Cvr = "cvr";

    public static bool IsTask(string? value) => value is Ctr or Cvr;
}
