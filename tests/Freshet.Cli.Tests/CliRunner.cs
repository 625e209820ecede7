using System.Text.Json.Nodes;
using Freshet.Tools.Output;

namespace Freshet.Cli.Tests;

/// <summary>Runs the freshet command line in this process and captures what it prints.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error)
    {
        /// <summary>The JSON object on the last line of stdout (the --json contract).</summary>
        public JsonObject Json => JsonNode.Parse(Out.TrimEnd().Split('\n')[^1])!.AsObject();
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var code = await FreshetCli.RunAsync(args, new CliContext(o, e, interactive: false));
        return new Result(code, o.ToString(), e.ToString());
    }
}
