using Freshet.Grains.Placement;
using Freshet.Hosting;
using System.Collections.Concurrent;
using System.Diagnostics;
using Freshet.Silo;

namespace Freshet.Tools.Cluster;

/// <summary>
/// A silo in a process of its own (<c>freshet silo</c>, the local profile), for drills that kill one the way a machine
/// dies: its last output lines are kept to explain an early exit, and it is killed with its children on dispose.
/// </summary>
public sealed class SiloProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly Process _process;

    private SiloProcess(string name, int siloPort, int gatewayPort, Process process)
    {
        Name = name;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        _process = process;
    }

    public string Name { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the silo wrote (stdout and stderr), oldest first.</summary>
    public string Tail => string.Join('\n', _tail);

    /// <summary>Whether a silo address, as status prints it (<c>127.0.0.1:PORT@EPOCH</c>) or parsable (<c>127.0.0.1:PORT:EPOCH</c>), is this silo.</summary>
    public bool Is(string siloAddress) =>
        siloAddress.Contains($":{SiloPort}@", StringComparison.Ordinal) || siloAddress.Contains($":{SiloPort}:", StringComparison.Ordinal);

    /// <summary>
    /// Starts <c>freshet silo --profile local</c> with <paramref name="roles"/> on free loopback ports, in cluster
    /// <paramref name="clusterId"/>; <paramref name="primaryPort"/>: the first silo's port, for the others. With
    /// <paramref name="azurite"/> (a connection string), the azurite profile instead: membership, grain state, queue
    /// streams and checkpoints in that storage, and no primary silo.
    /// </summary>
    public static SiloProcess Start(string name, string clusterId, string checkpoints, SiloRoles roles, int? primaryPort, bool noAdmin, string? state = null, string? azurite = null)
    {
        var siloPort = LocalCluster.FreePort();
        var gatewayPort = LocalCluster.FreePort();
        // The command line's own assembly, run by the same dotnet: works from the apphost, `dotnet freshet.dll` and a test host.
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CommandLineAssembly());
        foreach (var a in new[] { "silo", "--profile", (azurite is null ? FreshetProfile.Local : FreshetProfile.Azurite).Name(), "--roles", roles.ToString(), "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString() })
        {
            start.ArgumentList.Add(a);
        }
        if (azurite is not null)
        {
            start.Environment["Freshet__Silo__StorageConnectionString"] = azurite;
        }
        else
        {
            start.ArgumentList.Add("--checkpoints");
            start.ArgumentList.Add(checkpoints);
        }
        if (primaryPort is { } p && azurite is null)
        {
            start.ArgumentList.Add("--primary-port");
            start.ArgumentList.Add(p.ToString());
        }
        if (noAdmin) start.ArgumentList.Add("--no-admin");
        if (state is not null && azurite is null)
        {
            start.ArgumentList.Add("--state");
            start.ArgumentList.Add(state);
        }
        start.Environment["Freshet__Silo__ClusterId"] = clusterId;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} silo: the process did not start");
        var silo = new SiloProcess(name, siloPort, gatewayPort, process);
        process.OutputDataReceived += (_, e) => silo.Line(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Line(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Kills the process at once (no shutdown, no leaving the cluster), as a lost machine does.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Throws with the silo's last output if its process has exited.</summary>
    public void ThrowIfExited()
    {
        if (_process.HasExited) throw new InvalidOperationException($"{Name} silo (process {_process.Id}) exited with code {_process.ExitCode}; its last output:\n{Tail}");
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // already reaped
        }
        _process.Dispose();
    }

    private void Line(string? line)
    {
        if (line is null) return;
        _tail.Enqueue(line);
        while (_tail.Count > 60) _tail.TryDequeue(out _);
    }

    /// <summary>
    /// The command line's assembly (freshet.dll), beside this one wherever the command line runs: its own output,
    /// a test's output, a published tool.
    /// </summary>
    private static string CommandLineAssembly()
    {
        var path = Path.Combine(Path.GetDirectoryName(typeof(SiloProcess).Assembly.Location) ?? AppContext.BaseDirectory, "freshet.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"a silo process runs the command line's assembly, and {path} does not exist: build src/Cli (./freshet does) or run from its output", path);
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
