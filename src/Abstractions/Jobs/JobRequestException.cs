namespace Freshet.Jobs;

/// <summary>A request a job cannot carry out (bad schema, unknown strategy, missing checkpoint); the message says what and how to fix it.</summary>
[GenerateSerializer, Alias("Freshet.Jobs.JobRequestException")]
public sealed class JobRequestException : Exception
{
    public JobRequestException() { }

    public JobRequestException(string message) : base(message) { }

    public JobRequestException(string message, Exception inner) : base(message, inner) { }
}
