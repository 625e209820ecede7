namespace Freshet.Jobs;

/// <summary>
/// A delta that was not published: storage or the weights stream failed while it was retained, recorded or sent. The delta
/// is kept and goes out first, with the same number and bytes, on the next publish; serving stays where it was meanwhile.
/// </summary>
[GenerateSerializer, Alias("Freshet.Jobs.PublishFailedException")]
public sealed class PublishFailedException : Exception
{
    public PublishFailedException() { }

    public PublishFailedException(string message) : base(message) { }

    public PublishFailedException(string message, Exception inner) : base(message, inner) { }
}
