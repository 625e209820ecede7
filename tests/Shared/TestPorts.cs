using System.Net;
using System.Net.Sockets;

namespace Freshet.Tests;

/// <summary>Linked into every test project: loopback ports for silos, gateways and emulators started by tests.</summary>
public static class TestPorts
{
    /// <summary>A TCP port free on loopback now (the system's pick, released at once).</summary>
    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
