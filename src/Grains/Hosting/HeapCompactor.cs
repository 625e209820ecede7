using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Freshet.Grains.Hosting;

/// <summary>
/// Gives back the memory a checkpoint leaves behind. Swapping a served model builds the new one beside the old, and
/// writing or loading a shard's checkpoint fills large buffers; once they are garbage, the collector keeps the room
/// they took as free space in the old generation and the large-object heap, so the first checkpoint of a long run
/// raises the silo's resident memory for good (measured by <c>freshet drill soak</c>: about 25-50 MB). After such a
/// release this runs one compacting, decommitting full collection, a few seconds later (the old model's last scoring
/// calls end first) and at most once a <see cref="SiloLimitsOptions.HeapCompactionInterval"/>. A checkpoint comes
/// daily in production: one pause a day (a few hundred milliseconds at most, measured by the soak and shown in the
/// silo's status) against memory that would otherwise stay taken. After the collection, the C library's free pages go
/// back too (<see cref="NativeHeap.Trim"/>): what the old model's tensors and the steps' native buffers left in glibc's heap.
/// </summary>
public sealed partial class HeapCompactor(IOptions<SiloLimitsOptions> options, ILogger<HeapCompactor> logger)
{
    /// <summary>How long after the release the collection runs: scoring on the old model and the checkpoint's writes end first.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(3);

    private readonly Stopwatch _sinceLast = new();
    private int _scheduled;
    private long _compactions;
    private TimeSpan _longest; // guarded by _sinceLast
    private long _nativeTrimmed;

    /// <summary>Compactions run since the silo started.</summary>
    public long Compactions => Interlocked.Read(ref _compactions);

    /// <summary>The longest compaction so far: the silo's longest pause of this kind.</summary>
    public TimeSpan LongestPause
    {
        get
        {
            lock (_sinceLast) return _longest;
        }
    }

    /// <summary>Native memory handed back to the system after the compactions (<see cref="NativeHeap.Trim"/>), in bytes.</summary>
    public long NativeBytesTrimmed => Interlocked.Read(ref _nativeTrimmed);

    /// <summary>A large amount of memory just became garbage (a model swapped out, a checkpoint written or loaded).</summary>
    public void AfterLargeRelease(string what)
    {
        var interval = options.Value.HeapCompactionInterval;
        if (interval <= TimeSpan.Zero) return;
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0) return;
        var wait = Delay;
        lock (_sinceLast)
        {
            if (_sinceLast.IsRunning && _sinceLast.Elapsed < interval) wait = interval - _sinceLast.Elapsed;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(wait);
                var before = GC.GetTotalMemory(forceFullCollection: false);
                var clock = Stopwatch.StartNew();
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                clock.Stop();
                // The collection ran the finalizers of what it freed (an old model's tensors among them): their native memory
                // is back in the C library's heap, which keeps it unless told to give it back.
                GC.WaitForPendingFinalizers();
                var trimmed = NativeHeap.Trim();
                Interlocked.Add(ref _nativeTrimmed, trimmed);
                lock (_sinceLast)
                {
                    _sinceLast.Restart();
                    if (clock.Elapsed > _longest) _longest = clock.Elapsed;
                }
                Interlocked.Increment(ref _compactions);
                LogCompacted(logger, what, clock.Elapsed.TotalMilliseconds, before / 1048576.0, GC.GetTotalMemory(false) / 1048576.0, trimmed / 1048576.0);
            }
            finally
            {
                Volatile.Write(ref _scheduled, 0);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Heap compacted after {What} in {Ms:F0} ms: managed heap {Before:F0} -> {After:F0} MB; native memory given back {Trimmed:F0} MB")]
    private static partial void LogCompacted(ILogger logger, string what, double ms, double before, double after, double trimmed);
}
