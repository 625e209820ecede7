using System.Runtime.InteropServices;

namespace Freshet.Grains.Hosting;

/// <summary>
/// The C library's heap, where TorchSharp's tensors and the runtime's own native allocations live. glibc keeps memory
/// that was freed in its arenas for reuse instead of handing it back, so a model built and freed at every checkpoint
/// can leave the silo's resident memory higher each time; <c>malloc_trim</c> gives the free pages back. Linux with
/// glibc only: elsewhere (or with another C library) <see cref="Trim"/> does nothing.
/// </summary>
public static partial class NativeHeap
{
    private static volatile bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>Hands the C library's free pages back to the system; returns how much the resident memory dropped (bytes, 0 when it did not or cannot).</summary>
    public static long Trim()
    {
        if (s_unavailable) return 0;
        var before = Environment.WorkingSet;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true; // musl and other C libraries have no malloc_trim: nothing to give back this way
            return 0;
        }
        return Math.Max(0, before - Environment.WorkingSet);
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
