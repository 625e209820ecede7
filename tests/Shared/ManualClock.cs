namespace Freshet.Tests;

/// <summary>Linked into every test project: a clock a test sets (for time windows of proofs and nonces).</summary>
public sealed class ManualClock(DateTime now) : TimeProvider
{
    public DateTime Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => new(Now, TimeSpan.Zero);
}
