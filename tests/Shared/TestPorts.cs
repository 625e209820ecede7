using System.Net;
using System.Net.Sockets;

namespace Freshet.Tests;

/// <summary>Linked into every test project: loopback ports for silos, gateways and emulators started by tests.</summary>
public static class TestPorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A TCP port free on loopback now (the system's pick, released at once), never one this process was given before:
    /// the system may hand a just-released port out again, and a silo given the same port for silo and gateway fails to start.
    /// </summary>
    public static int Free()
    {
        while (true)
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            lock (Given)
            {
                if (Given.Add(port)) return port;
            }
        }
    }
}
