using System.Diagnostics;

namespace Freshet.Grains;

/// <summary>Freshet's trace sources (named <c>Freshet.*</c>; exporters are the host's to add).</summary>
public static class FreshetTelemetry
{
    /// <summary>Mode transitions, publishes, checkpoints and rollbacks of deployments, with the versions involved.</summary>
    public static readonly ActivitySource Deployments = new("Freshet.Deployments");
}
