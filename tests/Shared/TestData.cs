namespace Freshet.Tests;

/// <summary>
/// Linked into every test project. The shared real logs: the folder named by FRESHET_DATA, else ../shared/data next to the
/// repository when it exists. Tests that need them are skipped with the reason when they are missing.
/// </summary>
public static class TestData
{
    public static readonly string? Folder = Find();

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Schema(string name) => Path.Combine(RepositoryRoot, "schemas", name);

    public static string Mind => Path.Combine(Folder!, "mind-small-5k");

    public static string TalkingData => Path.Combine(Folder!, "talkingdata-100k");

    public const string MissingReason = "real logs not found: set FRESHET_DATA to the folder holding mind-small-5k and talkingdata-100k (default ../shared/data)";

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("FRESHET_DATA");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        var shared = Path.Combine(FindRepositoryRoot(), "..", "shared", "data");
        return Directory.Exists(shared) ? Path.GetFullPath(shared) : null;
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Orleans.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A test on the shared real logs; skipped, with the reason, when they are missing.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (TestData.Folder is null) Skip = TestData.MissingReason;
    }
}
