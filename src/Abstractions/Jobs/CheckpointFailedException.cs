namespace Freshet.Jobs;

/// <summary>
/// A full checkpoint that was not committed: storage failed while it was being written. Nothing of it is visible (its
/// manifest was never written), the job's previous checkpoint stays the latest and serving stays where it was; training
/// goes on. The message says which step failed, where, and what to check.
/// </summary>
[GenerateSerializer, Alias("Freshet.Jobs.CheckpointFailedException")]
public sealed class CheckpointFailedException : Exception
{
    public CheckpointFailedException() { }

    public CheckpointFailedException(string message) : base(message) { }

    public CheckpointFailedException(string message, Exception inner) : base(message, inner) { }
}
