namespace Freshet.Parameters;

/// <summary>A shard that cannot do what was asked of it (its persisted state could not be read); the message says why and how to mend it.</summary>
[GenerateSerializer, Alias("Freshet.Parameters.ShardStateException")]
public sealed class ShardStateException : Exception
{
    public ShardStateException() { }

    public ShardStateException(string message) : base(message) { }

    public ShardStateException(string message, Exception inner) : base(message, inner) { }
}
