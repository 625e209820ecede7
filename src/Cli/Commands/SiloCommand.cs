using System.CommandLine;
using Freshet.Tools.Output;
using Freshet.Silo;
using Microsoft.Extensions.Hosting;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet silo</c>: runs a silo until stopped (Ctrl+C).</summary>
public static class SiloCommand
{
    public static Command Build(CliContext cli)
    {
        var profile = new Option<string>("--profile") { Description = "local: localhost clustering, memory streams, checkpoints in a folder; azurite: Azure Storage by connection string (the emulator); azure: storage and Event Hubs by endpoint with a managed identity (Freshet:Silo:BlobEndpoint, TableEndpoint, EventHubsNamespace)", DefaultValueFactory = _ => "local" };
        var siloPort = new Option<int?>("--silo-port") { Description = "Silo-to-silo port (default 11111)" };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "Client gateway port (default 30000)" };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "Folder of full checkpoints (local profile; default ./checkpoints)" };
        var state = new Option<string?>("--state") { Description = "Keep grain state in this folder so jobs survive a restart (local profile; default: in memory)" };
        var roles = new Option<string?>("--roles") { Description = "What this silo does: training, serving or training,serving (default both)" };
        var primary = new Option<int?>("--primary-port") { Description = "Local profile, second and later silos: the first silo's --silo-port" };
        var http = new Option<int?>("--http-port") { Description = "Serve /health/startup, /health/ready, /health/live (and the dashboard) on this port" };
        var dashboard = new Option<bool>("--dashboard") { Description = "The Orleans Dashboard at /dashboard on --http-port" };
        var noAdmin = new Option<bool>("--no-admin") { Description = "Refuse admin calls through this silo's gateway (serving-only silos facing scoring traffic)" };
        var cmd = new Command("silo", "Run a Freshet silo until stopped") { profile, siloPort, gatewayPort, checkpoints, state, roles, primary, http, dashboard, noAdmin };
        cmd.SetAction(async (p, ct) =>
        {
            var builder = FreshetSilo.CreateBuilder([], o =>
            {
                o.Silo.Profile = p.GetValue(profile)!;
                if (p.GetValue(siloPort) is { } sp) o.Silo.SiloPort = sp;
                if (p.GetValue(gatewayPort) is { } gp) o.Silo.GatewayPort = gp;
                if (p.GetValue(checkpoints) is { } c) o.Local.CheckpointDirectory = c;
                if (p.GetValue(state) is { } s) o.Local.StateDirectory = s;
                if (p.GetValue(roles) is { } r) o.Silo.Roles = r;
                if (p.GetValue(primary) is { } pp) o.Silo.PrimarySiloPort = pp;
                if (p.GetValue(http) is { } hp) o.Http.HttpPort = hp;
                if (p.GetValue(dashboard)) o.Http.Dashboard = true;
                if (p.GetValue(noAdmin)) o.Silo.AdminCalls = false;
            });
            using var host = builder.Build();
            await cli.Error.WriteLineAsync($"freshet silo: profile {p.GetValue(profile)}; stop with Ctrl+C");
            await host.RunAsync(ct);
            return 0;
        });
        return cmd;
    }
}
