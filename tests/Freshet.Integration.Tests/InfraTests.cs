using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Freshet.Integration.Tests;

/// <summary>The Bicep templates compile and lint clean, and declare every part Freshet needs on Azure.</summary>
public class InfraTests
{
    private static string Bicep()
    {
        var path = Environment.GetEnvironmentVariable("FRESHET_BICEP");
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException("the Bicep CLI was not found: run the tests with ./test.sh, which downloads it (NuGet Azure.Bicep.CommandLine.linux-x64) and sets FRESHET_BICEP");
        }
        return path;
    }

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        var start = new ProcessStartInfo(Bicep()) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.Combine(TestData.RepositoryRoot, "infra") };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void Main_bicep_builds_and_lints_clean_and_declares_every_part()
    {
        var build = Run("build", "main.bicep", "--stdout");
        Assert.True(build.Code == 0, build.Error);
        Assert.Equal("", build.Error.Trim()); // no warnings either
        var lint = Run("lint", "main.bicep");
        Assert.True(lint.Code == 0, lint.Error + lint.Out);
        Assert.Equal("", (lint.Error + lint.Out).Trim());
        foreach (var env in new[] { "dev", "prod" })
        {
            var parameters = Run("build-params", $"env/{env}.bicepparam", "--stdout");
            Assert.True(parameters.Code == 0, parameters.Error);
            Assert.Equal("", parameters.Error.Trim());
        }

        var template = JsonNode.Parse(build.Out)!;
        var resources = new List<JsonNode>();
        void Walk(JsonNode? list)
        {
            IEnumerable<JsonNode?> items = list is JsonArray a ? a : list is JsonObject o ? o.Select(kv => kv.Value) : [];
            foreach (var r in items.OfType<JsonNode>())
            {
                resources.Add(r);
                if ((string?)r["type"] == "Microsoft.Resources/deployments") Walk(r["properties"]!["template"]!["resources"]);
            }
        }
        Walk(template["resources"]);
        var types = resources.Select(r => (string)r["type"]!).ToHashSet();
        foreach (var type in new[]
        {
            "Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/blobServices/containers", "Microsoft.Storage/storageAccounts/tableServices/tables",
            "Microsoft.EventHub/namespaces", "Microsoft.EventHub/namespaces/eventhubs",
            "Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", "Microsoft.Authorization/roleAssignments",
            "Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components", "Microsoft.ContainerRegistry/registries", "Microsoft.ContainerService/managedClusters",
        })
        {
            Assert.Contains(type, types);
        }

        // No shared keys anywhere; the four hubs; one role assignment per (part, role) the silos need.
        var storage = resources.Single(r => (string)r["type"]! == "Microsoft.Storage/storageAccounts");
        Assert.False((bool)storage["properties"]!["allowSharedKeyAccess"]!);
        Assert.True((bool)resources.Single(r => (string)r["type"]! == "Microsoft.EventHub/namespaces")["properties"]!["disableLocalAuth"]!);
        Assert.Contains("ctr-samples", build.Out);
        Assert.Contains("cvr-samples", build.Out);
        Assert.Contains("\"weights\"", build.Out);
        Assert.Contains("\"labels\"", build.Out);
        var roles = resources.Where(r => (string)r["type"]! == "Microsoft.Authorization/roleAssignments").ToList();
        foreach (var role in new[]
        {
            "ba92f5b4-2d11-453d-a403-e96b0029c9fe", // Storage Blob Data Contributor
            "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
            "2b629674-e913-4c01-ae53-ef4638d8f975", // Azure Event Hubs Data Sender
            "a638d3c7-ab3a-418d-83e6-5f17a39d4fde", // Azure Event Hubs Data Receiver
            "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
            "7f951dda-4ed3-4680-a7ca-43fe172d538d", // AcrPull (the AKS kubelet)
        })
        {
            Assert.Contains(role, build.Out, StringComparison.Ordinal);
        }
        Assert.Equal(6, roles.Count);
        var aks = resources.Single(r => (string)r["type"]! == "Microsoft.ContainerService/managedClusters");
        var pools = aks["properties"]!["agentPoolProfiles"]!.AsArray();
        Assert.Contains(pools, p => (string)p!["name"]! == "training");
        Assert.Contains(pools, p => (string)p!["name"]! == "serving" && (bool)p["enableAutoScaling"]!);
    }

    [Fact]
    public void The_kubernetes_manifests_use_settings_the_silo_has_and_the_probes_it_serves()
    {
        var yaml = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "infra", "k8s", "freshet.yaml"));
        var settings = System.Text.RegularExpressions.Regex.Matches(yaml, @"Freshet__Silo__([A-Za-z0-9]+)").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.NotEmpty(settings);
        var known = Freshet.Silo.FreshetSiloOptions.Keys;
        Assert.All(settings, s => Assert.True(known.Contains(s), $"infra/k8s/freshet.yaml sets Freshet__Silo__{s}, which no options class of the silo has"));
        foreach (var needed in new[] { "Profile", "Roles", "AdvertisedAddress", "BlobEndpoint", "TableEndpoint", "EventHubsNamespace", "ManagedIdentityClientId", "HttpPort", "AdminCalls" })
        {
            Assert.Contains(needed, settings);
        }
        foreach (var probe in new[] { Freshet.Silo.SiloHttp.Startup, Freshet.Silo.SiloHttp.Ready, Freshet.Silo.SiloHttp.Live })
        {
            Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(yaml, $"path: {probe},").Count);
        }
        Assert.Contains(Freshet.Silo.FreshetSilo.ApplicationInsightsVariable, yaml);
        // The training silos take admin calls, the serving ones do not.
        Assert.Matches(@"Roles, value: training \}\s+- \{ name: Freshet__Silo__AdminCalls, value: ""true""", yaml);
        Assert.Matches(@"Roles, value: serving \}\s+#[^\n]*\n\s+- \{ name: Freshet__Silo__AdminCalls, value: ""false""", yaml);
    }
}
