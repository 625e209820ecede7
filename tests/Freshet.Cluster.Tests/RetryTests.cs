using Freshet.Grains.Training;

namespace Freshet.Cluster.Tests;

/// <summary>What the grains' retry takes for a failure of the cluster's plumbing, and what it lets through.</summary>
public sealed class RetryTests
{
    [Fact]
    public async Task A_call_the_cluster_cancelled_is_tried_again_while_the_callers_own_cancellation_is_not()
    {
        // Orleans answers a request it dropped (a stream agent stopping as its queues move to another silo) with an
        // OperationCanceledException: the caller did not cancel, so the call is tried again.
        var tries = 0;
        var result = await Retry.CallAsync(() => ++tries < 3 ? throw new OperationCanceledException() : Task.FromResult(tries), CancellationToken.None);
        Assert.Equal(3, result);

        // The caller's own cancellation ends it at once.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        tries = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Retry.CallAsync(() => { tries++; throw new OperationCanceledException(cancelled.Token); }, cancelled.Token));
        Assert.Equal(1, tries);
    }

    [Fact]
    public async Task A_silo_going_away_is_tried_again_and_a_fault_of_the_request_is_not()
    {
        var tries = 0;
        await Retry.CallAsync(() => ++tries < 2 ? throw new SiloUnavailableException("gone") : Task.CompletedTask, CancellationToken.None);
        Assert.Equal(2, tries);
        tries = 0;
        await Assert.ThrowsAsync<ArgumentException>(() => Retry.CallAsync(() => { tries++; throw new ArgumentException("bad request"); }, CancellationToken.None));
        Assert.Equal(1, tries);
    }

    [Fact]
    public void The_sdk_takes_a_call_the_cluster_cancelled_as_transient_and_a_fault_of_the_request_not()
    {
        // A gateway silo's grain-directory lookup cut short as a silo left reaches the client as an
        // OperationCanceledException (the load drill's kill phase); the SDK's calls carry no token of the caller's.
        Assert.True(Freshet.Client.FreshetClient.IsTransient(new OperationCanceledException()));
        Assert.True(Freshet.Client.FreshetClient.IsTransient(new SiloUnavailableException("gone")));
        Assert.False(Freshet.Client.FreshetClient.IsTransient(new ArgumentException("bad request")));
        Assert.False(Freshet.Client.FreshetClient.IsTransient(new Freshet.Serving.ScoringRequestException("too large")));
    }
}
