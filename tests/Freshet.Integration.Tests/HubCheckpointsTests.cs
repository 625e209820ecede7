using Azure.Data.Tables;
using Freshet.Grains.Streaming;
using Microsoft.Extensions.Logging.Abstractions;

namespace Freshet.Integration.Tests;

/// <summary>
/// Where the samples hubs' receivers start (azure profile), in Azurite's table service: Orleans' delivery commits, and
/// the rewinds a restore asks for so that a restored job gets every event after what its checkpoint holds.
/// </summary>
[Collection(AzuriteCollection.Name)]
public class HubCheckpointsTests(Azurite azurite)
{
    private HubCheckpoints Store(TimeSpan? persistInterval = null) =>
        new(new TableServiceClient(azurite.ConnectionString).GetTableClient("hubs" + Guid.NewGuid().ToString("N")[..12]), "svc-1",
            persistInterval ?? TimeSpan.Zero, NullLogger<HubCheckpoints>.Instance);

    [AzuriteFact]
    public async Task A_receiver_starts_at_its_last_commit_and_commits_only_forward()
    {
        var store = Store();
        var first = await store.CreateAsync("ctr-samples", "0");
        Assert.Equal("", await first.Load(CancellationToken.None));
        Assert.False(first.CheckpointExists); // Orleans then starts the receiver as configured (from now)

        first.Update("1000", DateTime.UtcNow, CancellationToken.None);
        first.Update("999", DateTime.UtcNow, CancellationToken.None); // a late, lower offset: ignored (numbers, not text)
        await first.FlushAsync(CancellationToken.None);
        Assert.Equal(("1000", (string?)null), await store.ReadAsync("ctr-samples", "0"));

        var next = await store.CreateAsync("ctr-samples", "0");
        Assert.Equal("1000", await next.Load(CancellationToken.None));
        Assert.True(next.CheckpointExists);
        // Another partition, another provider: their own rows.
        Assert.Equal("", await (await store.CreateAsync("ctr-samples", "1")).Load(CancellationToken.None));
        Assert.Equal("", await (await store.CreateAsync("cvr-samples", "0")).Load(CancellationToken.None));
    }

    [AzuriteFact]
    public async Task A_restores_rewind_outlasts_the_running_receivers_commits_and_the_next_start_reads_from_it_once()
    {
        var store = Store();
        var running = await store.CreateAsync("ctr-samples", "3");
        await running.Load(CancellationToken.None);
        running.Update("5000", DateTime.UtcNow, CancellationToken.None);
        await running.FlushAsync(CancellationToken.None);

        // A restore asks to read again from 1200; the receiver, still running, commits 5600 on its way out.
        await store.RewindAsync("ctr-samples", "3", "1200");
        running.Update("5600", DateTime.UtcNow, CancellationToken.None);
        await running.FlushAsync(CancellationToken.None);
        Assert.Equal(("5600", "1200"), await store.ReadAsync("ctr-samples", "3"));

        // Started again, it reads from the rewind, which becomes its commit: a later start does not rewind again.
        var restarted = await store.CreateAsync("ctr-samples", "3");
        Assert.Equal("1200", await restarted.Load(CancellationToken.None));
        Assert.Equal(("1200", (string?)null), await store.ReadAsync("ctr-samples", "3"));
        restarted.Update("1300", DateTime.UtcNow, CancellationToken.None);
        await restarted.FlushAsync(CancellationToken.None);
        Assert.Equal("1300", await (await store.CreateAsync("ctr-samples", "3")).Load(CancellationToken.None));
    }

    [AzuriteFact]
    public async Task A_rewind_never_moves_a_receiver_forward_and_the_earliest_of_several_wins()
    {
        var store = Store();
        // Behind the rewind already (other jobs on the hub have not received what lies between): it stays there.
        var behind = await store.CreateAsync("cvr-samples", "0");
        await behind.Load(CancellationToken.None);
        behind.Update("300", DateTime.UtcNow, CancellationToken.None);
        await behind.FlushAsync(CancellationToken.None);
        await store.RewindAsync("cvr-samples", "0", "500");
        Assert.Equal("300", await (await store.CreateAsync("cvr-samples", "0")).Load(CancellationToken.None));

        // Two restores before the receivers start again: the earlier offset stands. No commit yet: the rewind is the start.
        await store.RewindAsync("cvr-samples", "1", "800");
        await store.RewindAsync("cvr-samples", "1", "600");
        await store.RewindAsync("cvr-samples", "1", "9000");
        Assert.Equal((null, "600"), await store.ReadAsync("cvr-samples", "1"));
        var started = await store.CreateAsync("cvr-samples", "1");
        Assert.Equal("600", await started.Load(CancellationToken.None));
        Assert.True(started.CheckpointExists);
    }

    [AzuriteFact]
    public async Task Commits_wait_for_the_persist_interval_and_a_flush_writes_the_last()
    {
        var store = Store(TimeSpan.FromHours(1));
        var receiver = await store.CreateAsync("ctr-samples", "0");
        await receiver.Load(CancellationToken.None);
        var now = DateTime.UtcNow;
        receiver.Update("10", now, CancellationToken.None); // the first commits at once
        receiver.Update("20", now.AddSeconds(1), CancellationToken.None); // within the interval: kept for later
        await WaitAsync(async () => (await store.ReadAsync("ctr-samples", "0")).Offset == "10");
        Assert.Equal("10", (await store.ReadAsync("ctr-samples", "0")).Offset);
        await receiver.FlushAsync(CancellationToken.None);
        Assert.Equal("20", (await store.ReadAsync("ctr-samples", "0")).Offset);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the commit was not written");
            await Task.Delay(20);
        }
    }
}
