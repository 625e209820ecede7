namespace Freshet.Silo;

/// <summary>The silo's HTTP side: health endpoints and the dashboard.</summary>
public sealed class SiloHttpOptions
{
    /// <summary>
    /// Port of <c>/health/startup</c>, <c>/health/ready</c>, <c>/health/live</c> (liveness touches no storage) and,
    /// with <see cref="Dashboard"/>, <c>/dashboard</c>. Loopback only except in the azure profile. Null: no HTTP server.
    /// </summary>
    public int? HttpPort { get; set; }

    /// <summary>The Orleans Dashboard at <c>/dashboard</c> on <see cref="HttpPort"/>.</summary>
    public bool Dashboard { get; set; }
}
