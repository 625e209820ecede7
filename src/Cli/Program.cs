using Freshet.Cli;
using Freshet.Tools.Output;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await FreshetCli.RunAsync(args, CliContext.FromConsole(), cancel.Token);
