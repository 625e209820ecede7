namespace Freshet.Model.Checkpoints;

/// <summary>A checkpoint that cannot be used: names the version and the file, and why.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message) : base(message) { }

    public CheckpointException(string message, Exception inner) : base(message, inner) { }

    public CheckpointException() { }
}
