using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Freshet.Integration.Tests;

/// <summary>
/// A real Azure Storage emulator (Azurite, from npm) started by the tests on free loopback ports and
/// killed by its process id at the end. <c>./test.sh</c> installs it under <c>.tools/azurite</c>;
/// <c>FRESHET_AZURITE</c> may name another azurite executable.
/// </summary>
public sealed class Azurite : IAsyncLifetime
{
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? _process;

    public int BlobPort { get; } = TestPorts.Free();

    public int QueuePort { get; } = TestPorts.Free();

    public int TablePort { get; } = TestPorts.Free();

    /// <summary>The emulator's well-known development account on this instance's ports.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static string? Executable
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("FRESHET_AZURITE");
            if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : null;
            var local = Path.Combine(TestData.RepositoryRoot, ".tools", "azurite", "node_modules", ".bin", "azurite");
            return File.Exists(local) ? local : null;
        }
    }

    public const string MissingReason = "Azurite is not installed: run ./test.sh (it installs it under .tools/azurite), or set FRESHET_AZURITE to an azurite executable";

    public async Task InitializeAsync()
    {
        var exe = Executable ?? throw new InvalidOperationException(MissingReason);
        var info = new ProcessStartInfo(exe)
        {
            ArgumentList =
            {
                "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
                "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {exe}");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            while (!await ListensAsync(port))
            {
                if (_process.HasExited) throw new InvalidOperationException($"azurite exited with code {_process.ExitCode} before listening");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"azurite did not listen on port {port} within 60 s");
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is null) return;
        // Azurite may ignore SIGTERM for a long time after serving a silo: a short grace, then kill, by its id.
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private static async Task<bool> ListensAsync(int port)
    {
        try
        {
            using var c = new TcpClient();
            await c.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<Azurite>
{
    public const string Name = "azurite";
}

/// <summary>
/// A test against Azurite. Skipped with the reason when Azurite is not installed, unless
/// FRESHET_REQUIRE_AZURITE=1 (./test.sh sets it), where a missing Azurite fails the test instead.
/// </summary>
public sealed class AzuriteFactAttribute : FactAttribute
{
    public AzuriteFactAttribute()
    {
        if (Azurite.Executable is null && Environment.GetEnvironmentVariable("FRESHET_REQUIRE_AZURITE") != "1") Skip = Azurite.MissingReason;
    }
}
