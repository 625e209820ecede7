namespace Freshet.Feedback;

/// <summary>A label that cannot be taken (its model logs no predictions, a malformed id); the message says why and what to do.</summary>
[GenerateSerializer, Alias("freshet.feedback-exception")]
public sealed class FeedbackException : Exception
{
    public FeedbackException() { }

    public FeedbackException(string message) : base(message) { }

    public FeedbackException(string message, Exception inner) : base(message, inner) { }
}
