using System.Net;
using System.Net.Sockets;

namespace Freshet.Grains.Hosting;

/// <summary>
/// Loopback ports for silos, gateways and emulators started on this machine (local clusters, drills, tests): one picker for
/// the whole process, so no two callers are handed the same port.
/// </summary>
public static class LoopbackPorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A TCP port free on loopback now (the system picks it), never one this process was given before: the system may
    /// hand a just-released port out again, and a silo given one port for silo and gateway refuses to start.
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
