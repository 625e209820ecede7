namespace Freshet.Silo;

/// <summary>Where metrics and traces go besides OTLP (on whenever <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set) and Azure Monitor (azure profile).</summary>
public sealed class SiloTelemetryOptions
{
    /// <summary>Also write metrics and traces to the console.</summary>
    public bool ConsoleTelemetry { get; set; }
}
