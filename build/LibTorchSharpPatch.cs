// Compiled by MSBuild's RoslynCodeTaskFactory (see TorchSharpNative.targets); not part of any project.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
public class FreshetPatchLibTorchSharp : Microsoft.Build.Utilities.Task
{
    private const string LibraryName = "libLibTorchSharp.so";
    private const string MissingVersion = "GLIBCXX_3.4.32";
    private const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    [Microsoft.Build.Framework.Required]
    public string[] Directories { get; set; }

    [Microsoft.Build.Framework.Output]
    public string[] Patched { get; set; }

    public override bool Execute()
    {
        var patched = new List<string>();
        Patched = patched.ToArray();
        var libstdcxx = FindSystemLibStdCxx();
        if (libstdcxx == null)
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "Freshet: no system libstdc++.so.6 found; leaving " + LibraryName + " as shipped.");
            return true;
        }
        if (ContainsAscii(File.ReadAllBytes(libstdcxx), MissingVersion + "\0"))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "Freshet: " + libstdcxx + " has " + MissingVersion + "; " + LibraryName + " needs no fix.");
            return true;
        }
        foreach (var dir in Directories)
        {
            foreach (var candidate in new[] { Path.Combine(dir, LibraryName), Path.Combine(dir, "runtimes", "linux-x64", "native", LibraryName) })
            {
                if (!File.Exists(candidate)) continue;
                string error;
                var bytes = File.ReadAllBytes(candidate);
                var changed = MarkVersionWeak(bytes, out error);
                if (error != null)
                {
                    Log.LogError("Freshet: cannot make " + candidate + " load on this machine (" + libstdcxx + " lacks " + MissingVersion + "): " + error);
                    return false;
                }
                if (!changed) continue;
                // Write a new file and move it over the old one: the old one may be a hard link
                // into the NuGet package cache, which must stay as shipped.
                var temp = candidate + ".freshet-tmp";
                File.WriteAllBytes(temp, bytes);
                File.Replace(temp, candidate, null);
                patched.Add(candidate);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "Freshet: marked " + MissingVersion + " weak in " + candidate + " (system libstdc++ " + libstdcxx + " lacks it).");
            }
        }
        Patched = patched.ToArray();
        return true;
    }

    private static string FindSystemLibStdCxx()
    {
        var dirs = new List<string>();
        var ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(ldPath)) dirs.AddRange(ldPath.Split(':'));
        dirs.AddRange(new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" });
        foreach (var d in dirs)
        {
            if (string.IsNullOrEmpty(d)) continue;
            var p = Path.Combine(d, "libstdc++.so.6");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static bool ContainsAscii(byte[] haystack, string needle)
    {
        var n = Encoding.ASCII.GetBytes(needle);
        for (var i = 0; i + n.Length <= haystack.Length; i++)
        {
            var j = 0;
            while (j < n.Length && haystack[i + j] == n[j]) j++;
            if (j == n.Length) return true;
        }
        return false;
    }

    /// <summary>Sets VER_FLG_WEAK on the Vernaux entry naming GLIBCXX_3.4.32. Returns true when bytes changed.</summary>
    public static bool MarkVersionWeak(byte[] b, out string error)
    {
        error = null;
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F') { error = "not an ELF file"; return false; }
        if (b[4] != 2 || b[5] != 1) { error = "not a 64-bit little-endian ELF file"; return false; }
        var shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > b.Length) { error = "section header table out of range"; return false; }
        for (var i = 0; i < shnum; i++)
        {
            var sh = (int)(shoff + (long)i * shentsize);
            if (BitConverter.ToUInt32(b, sh + 4) != ShtGnuVerneed) continue;
            var off = (int)BitConverter.ToUInt64(b, sh + 0x18);
            var link = (int)BitConverter.ToUInt32(b, sh + 0x28);
            var count = (int)BitConverter.ToUInt32(b, sh + 0x2C);
            var strtabOff = (int)BitConverter.ToUInt64(b, (int)(shoff + (long)link * shentsize) + 0x18);
            var entry = off;
            for (var e = 0; e < count; e++)
            {
                int auxCount = BitConverter.ToUInt16(b, entry + 2);
                var aux = entry + (int)BitConverter.ToUInt32(b, entry + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var name = ReadCString(b, strtabOff + (int)BitConverter.ToUInt32(b, aux + 8));
                    if (name == MissingVersion)
                    {
                        var flags = BitConverter.ToUInt16(b, aux + 4);
                        if ((flags & VerFlagWeak) != 0) return false;
                        flags |= VerFlagWeak;
                        b[aux + 4] = (byte)(flags & 0xff);
                        b[aux + 5] = (byte)(flags >> 8);
                        return true;
                    }
                    var nextAux = (int)BitConverter.ToUInt32(b, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                var next = (int)BitConverter.ToUInt32(b, entry + 12);
                if (next == 0) break;
                entry += next;
            }
        }
        return false; // no requirement on GLIBCXX_3.4.32: nothing to do
    }

    private static string ReadCString(byte[] b, int at)
    {
        var end = at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, at, end - at);
    }
}
