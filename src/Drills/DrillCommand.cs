using System.CommandLine;
using Freshet.Tools.Output;

namespace Freshet.Drills;

/// <summary><c>freshet drill NAME</c>: fault drills on a real cluster, each reporting its figures (docs/RELIABILITY.md).</summary>
public static class DrillCommand
{
    public static Command Build(CliContext cli)
    {
        var drill = new Command("drill", "Fault drills on a cluster of silo processes, with their figures (docs/RELIABILITY.md)");
        drill.Subcommands.Add(LoadDrill.Build(cli));
        drill.Subcommands.Add(SoakDrill.Build(cli));
        return drill;
    }
}
