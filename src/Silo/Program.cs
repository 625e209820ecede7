using Freshet.Silo;
using Microsoft.Extensions.Options;

try
{
    using var host = FreshetSilo.CreateBuilder(args).Build();
    await host.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("freshet silo: invalid configuration:\n  " + string.Join("\n  ", e.Failures));
    return 2;
}
