namespace Freshet.Cli.Tests;

/// <summary>The shared real logs (FRESHET_DATA, default ../shared/data); tests on them are skipped with the reason when missing.</summary>
public static class TestData
{
    public static readonly string RepositoryRoot = FindRoot();

    public static readonly string? Folder = Find();

    public static string Schema(string name) => Path.Combine(RepositoryRoot, "schemas", name);

    public const string MissingReason = "real logs not found: set FRESHET_DATA to the folder holding mind-small-5k and talkingdata-100k (default ../shared/data)";

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("FRESHET_DATA");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        var shared = Path.Combine(RepositoryRoot, "..", "shared", "data");
        return Directory.Exists(shared) ? Path.GetFullPath(shared) : null;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("no Orleans.sln above " + AppContext.BaseDirectory);
    }
}

public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (TestData.Folder is null) Skip = TestData.MissingReason;
    }
}
