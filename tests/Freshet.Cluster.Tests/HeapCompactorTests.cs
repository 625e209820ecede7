using Freshet.Grains.Hosting;
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

/// <summary>Giving the C library's free pages back (after a compaction): what a freed model's tensors leave in glibc's heap.</summary>
public sealed class NativeHeapTests
{
    [LinuxFact]
    public void Trim_gives_back_native_memory_freed_below_a_block_still_held()
    {
        // 64 MB in 4 KB blocks (below glibc's mmap threshold: they come from its heap), then one block above them held:
        // freeing the 64 MB leaves it inside the heap, where free() alone does not give it back.
        const int blocks = 16_384, size = 4096;
        var held = new nint[blocks];
        var ones = Enumerable.Repeat((byte)1, size).ToArray();
        for (var i = 0; i < blocks; i++)
        {
            held[i] = System.Runtime.InteropServices.Marshal.AllocHGlobal(size);
            System.Runtime.InteropServices.Marshal.Copy(ones, 0, held[i], size); // touched: resident
        }
        var pin = System.Runtime.InteropServices.Marshal.AllocHGlobal(size);
        try
        {
            foreach (var p in held) System.Runtime.InteropServices.Marshal.FreeHGlobal(p);
            var trimmed = Freshet.Grains.Hosting.NativeHeap.Trim();
            Assert.True(trimmed >= 16L << 20, $"malloc_trim gave back {trimmed / 1048576.0:F1} MB of the 64 MB freed");
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(pin);
        }
    }
}

/// <summary>A test of Linux behaviour: skipped, saying so, elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "Linux only (glibc's malloc_trim)";
    }
}
