using System.Text;
using TorchSharp;

namespace Freshet.Model.Tests;

/// <summary>The build's fix of libLibTorchSharp.so: applied to the output copy where needed, never to the package cache.</summary>
public class TorchSharpNativeTests
{
    private const string Library = "libLibTorchSharp.so";

    [Fact]
    public void TorchSharp_loads_and_computes()
    {
        using var x = torch.ones(3, 4);
        Assert.Equal(12f, x.sum().item<float>());
    }

    [Fact]
    public void The_package_cache_keeps_the_library_as_shipped_and_the_output_copy_is_separate()
    {
        if (!OperatingSystem.IsLinux()) return;
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", Library);
        Assert.True(File.Exists(output), output);
        var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = Path.Combine(home, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", Library);
        Assert.True(File.Exists(cached), cached);
        Assert.False(RequirementIsWeak(File.ReadAllBytes(cached)), "the NuGet cache copy was modified");
        var systemHasVersion = SystemLibStdCxxHas("GLIBCXX_3.4.32");
        Assert.Equal(!systemHasVersion, RequirementIsWeak(File.ReadAllBytes(output)));
    }

    private static bool SystemLibStdCxxHas(string version)
    {
        foreach (var dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
        {
            var p = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(p)) return File.ReadAllBytes(p).AsSpan().IndexOf(Encoding.ASCII.GetBytes(version + "\0")) >= 0;
        }
        return false;
    }

    /// <summary>Whether the Vernaux entry for GLIBCXX_3.4.32 carries VER_FLG_WEAK.</summary>
    private static bool RequirementIsWeak(byte[] b)
    {
        var shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int entsize = BitConverter.ToUInt16(b, 0x3A), count = BitConverter.ToUInt16(b, 0x3C);
        for (var i = 0; i < count; i++)
        {
            var sh = (int)(shoff + (long)i * entsize);
            if (BitConverter.ToUInt32(b, sh + 4) != 0x6ffffffe) continue;
            var off = (int)BitConverter.ToUInt64(b, sh + 0x18);
            var strtab = (int)BitConverter.ToUInt64(b, (int)(shoff + (long)BitConverter.ToUInt32(b, sh + 0x28) * entsize) + 0x18);
            var entry = off;
            for (var e = 0; e < (int)BitConverter.ToUInt32(b, sh + 0x2C); e++)
            {
                var aux = entry + (int)BitConverter.ToUInt32(b, entry + 8);
                for (var a = 0; a < BitConverter.ToUInt16(b, entry + 2); a++)
                {
                    var nameAt = strtab + (int)BitConverter.ToUInt32(b, aux + 8);
                    var end = Array.IndexOf(b, (byte)0, nameAt);
                    if (Encoding.ASCII.GetString(b, nameAt, end - nameAt) == "GLIBCXX_3.4.32") return (BitConverter.ToUInt16(b, aux + 4) & 2) != 0;
                    aux += (int)BitConverter.ToUInt32(b, aux + 12);
                }
                entry += (int)BitConverter.ToUInt32(b, entry + 12);
            }
        }
        throw new InvalidOperationException("no GLIBCXX_3.4.32 requirement found");
    }
}
