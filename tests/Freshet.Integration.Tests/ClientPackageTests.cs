using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Xml.Linq;

namespace Freshet.Integration.Tests;

/// <summary>The SDK's NuGet package as ./test.sh packs it into artifacts/feed.</summary>
public class ClientPackageTests
{
    private static string Feed => Path.Combine(TestData.RepositoryRoot, "artifacts", "feed");

    private static ZipArchive Open(string id)
    {
        var package = Directory.Exists(Feed) ? Directory.GetFiles(Feed, id + ".*.nupkg").SingleOrDefault(f => char.IsDigit(Path.GetFileName(f)[id.Length + 1])) : null;
        Assert.True(package is not null, $"no {id} package in {Feed}: ./test.sh packs the SDK there");
        return ZipFile.OpenRead(package);
    }

    [Fact]
    public void The_client_package_names_itself_documents_every_public_member_and_carries_no_build_path()
    {
        using var zip = Open("Freshet.Client");
        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        var nuspec = XDocument.Load(zip.GetEntry("Freshet.Client.nuspec")!.Open());
        var metadata = nuspec.Root!.Element(ns + "metadata")!;
        Assert.Equal("Freshet.Client", metadata.Element(ns + "id")!.Value);
        Assert.Contains("score", metadata.Element(ns + "description")!.Value, StringComparison.Ordinal);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.NotNull(zip.GetEntry("README.md"));
        var dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        Assert.Contains("Freshet.Abstractions", dependencies);
        using (var core = Open("Freshet.Core")) Assert.NotNull(core.GetEntry("lib/net10.0/Freshet.Core.dll"));
        using (var abstractions = Open("Freshet.Abstractions")) Assert.NotNull(abstractions.GetEntry("lib/net10.0/Freshet.Abstractions.xml"));

        // Every public member of the client has its XML doc in the package.
        var members = XDocument.Load(zip.GetEntry("lib/net10.0/Freshet.Client.xml")!.Open()).Descendants("member").ToList();
        var docs = members.Select(m => m.Attribute("name")!.Value).ToHashSet();
        // A record's positional properties are documented by its constructor's <param> tags.
        bool Positional(Type type, string property) => members.Any(m => m.Attribute("name")!.Value.StartsWith($"M:{type.FullName}.#ctor(", StringComparison.Ordinal)
            && m.Elements("param").Any(p => p.Attribute("name")?.Value == property));
        var assembly = typeof(Freshet.Client.FreshetClient).Assembly;
        var missing = new List<string>();
        foreach (var type in assembly.GetExportedTypes())
        {
            if (!docs.Contains("T:" + type.FullName)) missing.Add(type.FullName!);
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (member is MethodInfo { IsSpecialName: true } || member.DeclaringType != type || IsCompilerMade(member)) continue;
                var prefix = member switch { PropertyInfo => "P:", FieldInfo => "F:", MethodInfo or ConstructorInfo => "M:", EventInfo => "E:", _ => null };
                if (prefix is null) continue;
                var name = $"{prefix}{type.FullName}.{(member is ConstructorInfo ? "#ctor" : member.Name)}";
                if (member is ConstructorInfo { IsStatic: false } c && c.GetParameters().Length == 0) continue; // the implicit one
                if (member is PropertyInfo && Positional(type, member.Name)) continue;
                if (!docs.Any(d => d == name || d.StartsWith(name + "(", StringComparison.Ordinal))) missing.Add(name);
            }
        }
        Assert.True(missing.Count == 0, "public members without XML docs: " + string.Join(", ", missing));

        // Built deterministically: source paths are mapped, so the bytes do not depend on where the repository sits.
        using var dll = new MemoryStream();
        zip.GetEntry("lib/net10.0/Freshet.Client.dll")!.Open().CopyTo(dll);
        var text = Encoding.UTF8.GetString(dll.ToArray());
        Assert.DoesNotContain(TestData.RepositoryRoot, text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sdk_packages_carry_the_contracts_request_featurizing_and_the_codec_and_no_training_code()
    {
        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in new[] { "Freshet.Client", "Freshet.Abstractions", "Freshet.Core" })
        {
            using var zip = Open(id);
            var nuspec = XDocument.Load(zip.GetEntry(id + ".nuspec")!.Open());
            var dependencies = nuspec.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
            Assert.DoesNotContain(dependencies, d => d.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase) || d.Contains("libtorch", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(dependencies, d => d.StartsWith("Freshet.", StringComparison.Ordinal) && d is not ("Freshet.Abstractions" or "Freshet.Core"));
            Assert.DoesNotContain(dependencies, d => d.StartsWith("Microsoft.Orleans.Server", StringComparison.Ordinal) || d.StartsWith("Microsoft.Orleans.Runtime", StringComparison.Ordinal));
            var dlls = zip.Entries.Where(e => e.FullName.EndsWith(".dll", StringComparison.Ordinal)).ToList();
            Assert.Equal([$"lib/net10.0/{id}.dll"], dlls.Select(e => e.FullName));
            using var bytes = new MemoryStream();
            dlls[0].Open().CopyTo(bytes);
            bytes.Position = 0;
            using var pe = new PEReader(bytes);
            var reader = pe.GetMetadataReader();
            foreach (var handle in reader.TypeDefinitions)
            {
                var type = reader.GetTypeDefinition(handle);
                types.Add(reader.GetString(type.Name));
            }
        }
        // What an application that scores needs: the client, the contracts, request featurizing, the sample codec.
        Assert.Superset(new HashSet<string> { "FreshetClient", "SamplePublisher", "RequestFeaturizer", "SampleCodec", "FeatureSchema", "SchemaLoader", "IdHasher" }, types);
        // What only training and tools need stays out of the packages.
        Assert.Empty(types.Intersect(["SchemaDrafter", "SyntheticStream", "EmbeddingTable", "AdagradOptimizer", "AdamOptimizer", "FtrlOptimizer", "RateTable",
            "CheckpointWriter", "CheckpointReader", "ShardRows", "SampleReader", "RowFeaturizer", "TaskEvaluation", "LabelJoin`1", "SequenceBuffer"]));
    }

    /// <summary>Members the compiler writes for records and properties (Equals, Deconstruct, the clone method...), which carry no docs of their own.</summary>
    private static bool IsCompilerMade(MemberInfo member) =>
        member.Name is "Equals" or "GetHashCode" or "ToString" or "Deconstruct" or "<Clone>$" or "PrintMembers" or "EqualityContract"
        || member.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is not null;
}
