namespace Freshet.Grains.Training;

/// <summary>
/// Retries a grain call through a silo failure: while the cluster declares a silo dead and its
/// grains come back elsewhere, calls fail with transient errors. Pushes are idempotent per trainer
/// step, so a retried push whose first try did land is not applied twice. A call cancelled by the cluster while the
/// caller did not cancel (Orleans answers a request it dropped, a stream agent that stopped as queues moved to other
/// silos, with an <see cref="OperationCanceledException"/>) is as transient.
/// </summary>
internal static class Retry
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    public static Task CallAsync(Func<Task> call, CancellationToken cancellationToken) =>
        CallAsync(async () => { await call(); return true; }, cancellationToken);

    public static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        var giveUp = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when ((IsTransient(e) || e is OperationCanceledException) && DateTime.UtcNow < giveUp && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(2000, delay.TotalMilliseconds * 2));
            }
        }
    }

    private static bool IsTransient(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
        || (e is OrleansException && e.Message.Contains("unavailable", StringComparison.OrdinalIgnoreCase));
}
