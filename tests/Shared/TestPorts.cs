using Freshet.Grains.Hosting;

namespace Freshet.Tests;

/// <summary>Linked into every test project that starts silos: loopback ports for silos, gateways and emulators started by tests.</summary>
public static class TestPorts
{
    /// <summary>
    /// A TCP port free on loopback now, never one this process was given before: the same picker as the product's own
    /// clusters and drills (<see cref="LoopbackPorts"/>), which tests run in process beside theirs.
    /// </summary>
    public static int Free() => LoopbackPorts.Free();
}
