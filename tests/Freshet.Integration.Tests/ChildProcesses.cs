using System.Collections.Concurrent;
using System.Diagnostics;

namespace Freshet.Integration.Tests;

/// <summary>
/// Processes a test starts (silos, the freshet command line, sample services): their output kept, the last
/// few hundred lines, each tagged with who wrote it; every one killed, with its children, on dispose.
/// </summary>
public sealed class ChildProcesses : IDisposable
{
    private readonly ConcurrentBag<Process> _processes = [];
    private readonly ConcurrentQueue<string> _log = new();

    /// <summary>The last lines the kept processes wrote, oldest first.</summary>
    public IEnumerable<string> Log => _log;

    /// <summary>Starts a process whose output is read in the background and kept under <paramref name="name"/>.</summary>
    public Process Keep(string name, ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var p = Process.Start(start)!;
        var tag = $"{name} {p.Id}";
        void Line(string? line)
        {
            if (line is null) return;
            _log.Enqueue($"[{tag}] {line}");
            while (_log.Count > 400) _log.TryDequeue(out _);
        }
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _processes.Add(p);
        return p;
    }

    /// <summary>Starts a process whose output the caller reads itself; it is still killed on dispose.</summary>
    public Process Run(ProcessStartInfo start)
    {
        var p = Process.Start(start)!;
        _processes.Add(p);
        return p;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
                // never started or already reaped
            }
            p.Dispose();
        }
    }
}
