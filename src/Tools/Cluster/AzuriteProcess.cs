using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Freshet.Silo;

namespace Freshet.Tools.Cluster;

/// <summary>
/// Azurite, the Azure Storage emulator (from npm), in a process of its own on free loopback ports with in-memory
/// storage, for drills on the azurite profile; killed with its children on dispose.
/// </summary>
public sealed class AzuriteProcess : IDisposable
{
    private readonly Process _process;

    private AzuriteProcess(Process process, int blob, int queue, int table)
    {
        _process = process;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    /// <summary>The emulator's well-known development account on this instance's ports.</summary>
    public string ConnectionString { get; }

    /// <summary>FRESHET_AZURITE, else <c>.tools/azurite</c> of the checkout this runs from (build/install-azurite.sh installs it there; ./test.sh and ./freshet run that).</summary>
    public static string? Executable()
    {
        if (Environment.GetEnvironmentVariable("FRESHET_AZURITE") is { Length: > 0 } env) return File.Exists(env) ? env : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, ".tools", "azurite", "node_modules", ".bin", "azurite");
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    public static async Task<AzuriteProcess> StartAsync(CancellationToken ct)
    {
        var exe = Executable() ?? throw new ArgumentException(
            "--profile azurite: Azurite (the Azure Storage emulator) was not found; run build/install-azurite.sh (./freshet runs it for --profile azurite; it installs Azurite from npm under .tools/azurite) or set FRESHET_AZURITE to an azurite executable");
        var ports = new[] { LocalCluster.FreePort(), LocalCluster.FreePort(), LocalCluster.FreePort() };
        var info = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry" }) info.ArgumentList.Add(a);
        foreach (var (service, port) in new[] { "blob", "queue", "table" }.Zip(ports))
        {
            info.ArgumentList.Add($"--{service}Host");
            info.ArgumentList.Add("127.0.0.1");
            info.ArgumentList.Add($"--{service}Port");
            info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {exe}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new AzuriteProcess(process, ports[0], ports[1], ports[2]);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var port in ports)
        {
            while (!await ListensAsync(port, ct))
            {
                if (process.HasExited) throw new InvalidOperationException($"azurite ({exe}) exited with code {process.ExitCode} before listening");
                if (DateTime.UtcNow > deadline)
                {
                    azurite.Dispose();
                    throw new TimeoutException($"azurite did not listen on port {port} within 60 s");
                }
                await Task.Delay(100, ct);
            }
        }
        return azurite;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already reaped
        }
        _process.Dispose();
    }

    private static async Task<bool> ListensAsync(int port, CancellationToken ct)
    {
        try
        {
            using var c = new TcpClient();
            await c.ConnectAsync(IPAddress.Loopback, port, ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
