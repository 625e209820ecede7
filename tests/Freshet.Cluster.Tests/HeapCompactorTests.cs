using Freshet.Grains.Hosting;
using Freshet.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Freshet.Cluster.Tests;

/// <summary>The compaction after a checkpoint: coalesced, at most one an interval, off when the interval is zero, and a setting out of range refused.</summary>
public sealed class HeapCompactorTests
{
    [Fact]
    public async Task Releases_in_a_burst_run_one_compaction_and_the_next_waits_for_the_interval()
    {
        var compactor = new HeapCompactor(Options.Create(new SiloLimitsOptions { HeapCompactionInterval = TimeSpan.FromHours(1) }), NullLogger<HeapCompactor>.Instance);
        for (var i = 0; i < 5; i++) compactor.AfterLargeRelease($"release {i}");
        await Wait.Until(() => compactor.Compactions == 1, "the first compaction");
        // The next release is due an hour after the first: nothing more runs within this test.
        compactor.AfterLargeRelease("a release right after");
        await Task.Yield();
        Assert.Equal(1, compactor.Compactions);
    }

    [Fact]
    public void An_interval_of_zero_turns_compaction_off_and_a_negative_one_is_refused()
    {
        var off = new HeapCompactor(Options.Create(new SiloLimitsOptions { HeapCompactionInterval = TimeSpan.Zero }), NullLogger<HeapCompactor>.Instance);
        off.AfterLargeRelease("a checkpoint");
        Assert.Equal(0, off.Compactions);
        var result = new SiloLimitsOptionsValidator().Validate(null, new SiloLimitsOptions { HeapCompactionInterval = TimeSpan.FromSeconds(-1) });
        Assert.True(result.Failed);
        Assert.Contains("HeapCompactionInterval", result.FailureMessage);
    }
}
