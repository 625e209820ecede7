using System.Xml.Linq;

namespace Freshet.Model.Tests;

/// <summary>
/// The projects' references as docs/ARCHITECTURE.md draws them: one way, and exactly these. A new reference is a
/// decision, made here and in that file together.
/// </summary>
public class ProjectGraphTests
{
    private static readonly string[] Expected =
    [
        "Training -> Core",
        "Model -> Training",
        "Abstractions -> Core",
        "Grains -> Abstractions", "Grains -> Model",
        "Silo -> Grains",
        "Client -> Abstractions",
        "Experiments -> Model", "Experiments -> Client", "Experiments -> Silo",
        "Tools -> Client", "Tools -> Model", "Tools -> Silo",
        "bench/Freshet.Bench -> Model",
        "Drills -> Tools", "Drills -> Experiments", "Drills -> bench/Freshet.Bench",
        "Cli -> Client", "Cli -> Model", "Cli -> Silo", "Cli -> Experiments", "Cli -> Tools", "Cli -> Drills",
    ];

    [Fact]
    public void Project_references_are_the_one_way_graph_the_architecture_draws()
    {
        var root = TestData.RepositoryRoot;
        var projects = Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(root, "bench"), "*.csproj", SearchOption.AllDirectories))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        string Name(string csproj)
        {
            var relative = Path.GetRelativePath(root, Path.GetDirectoryName(Path.GetFullPath(csproj))!).Replace('\\', '/');
            return relative.StartsWith("src/", StringComparison.Ordinal) ? relative["src/".Length..] : relative;
        }
        var edges = new List<string>();
        foreach (var project in projects)
        {
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
            {
                var target = Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value.Replace('\\', '/'));
                edges.Add($"{Name(project)} -> {Name(target)}");
            }
        }
        Assert.Equal(Expected.Order(StringComparer.Ordinal), edges.Order(StringComparer.Ordinal));

        // One way: no cycle, and the SDK (Client's closure) reaches neither training code nor TorchSharp's project.
        var next = edges.Select(e => e.Split(" -> ")).ToLookup(e => e[0], e => e[1]);
        HashSet<string> Closure(string from)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var todo = new Stack<string>([from]);
            while (todo.TryPop(out var p))
            {
                foreach (var q in next[p]) if (seen.Add(q)) todo.Push(q);
            }
            return seen;
        }
        foreach (var project in projects.Select(Name)) Assert.DoesNotContain(project, Closure(project));
        Assert.Equal(["Abstractions", "Core"], Closure("Client").Order(StringComparer.Ordinal));
    }
}
