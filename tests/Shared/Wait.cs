namespace Freshet.Tests;

/// <summary>Linked into every test project: waits on a condition with a deadline (never a bare sleep).</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; past the deadline, fails naming <paramref name="what"/>.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"timed out after {(deadline ?? DefaultDeadline).TotalSeconds:F0} s waiting for {what}");
            await Task.Delay(10);
        }
    }
}
