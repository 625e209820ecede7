namespace Freshet.Tools.Output;

/// <summary>Resident memory of this process as the kernel counts it.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set (VmHWM) in MB; on systems without /proc, the managed peak working set.</summary>
    public static double PeakResidentMegabytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    return kb / 1024.0;
                }
            }
        }
        return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }

    /// <summary>Memory the system can still give without swapping (MemAvailable), in bytes; null where it cannot say.</summary>
    public static long? AvailableBytes()
    {
        const string meminfo = "/proc/meminfo";
        if (!File.Exists(meminfo)) return null;
        foreach (var line in File.ReadLines(meminfo))
        {
            if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
            return long.Parse(line.AsSpan(13).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return null;
    }

    /// <summary>Starts the peak resident set over from the current one (Linux: <c>5</c> into <c>/proc/self/clear_refs</c>); false where it cannot.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
