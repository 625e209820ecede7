namespace Freshet.Client;

/// <summary>A call that failed and is about to be sent again (<see cref="FreshetClient.Retrying"/>).</summary>
/// <param name="Error">Why this try failed.</param>
/// <param name="Attempt">1 for the first retry, 2 for the second, and so on.</param>
/// <param name="Elapsed">Time since the call started.</param>
/// <param name="Pause">The pause before the next try.</param>
public readonly record struct CallRetry(Exception Error, int Attempt, TimeSpan Elapsed, TimeSpan Pause);
