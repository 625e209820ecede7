namespace Freshet.Cli.Experiments;

/// <summary>PNG charts of the experiments (none yet: see the report's tables).</summary>
public static class Charts
{
    public static IReadOnlyList<string> Realtime(RealtimeExperiment.Result result, string folder) => [];
}
