namespace Freshet.Serving;

[GenerateSerializer, Immutable, Alias("Freshet.Serving.SiloRoleInfo")]
public sealed record SiloRoleInfo
{
    [Id(0)] public string Silo { get; init; } = "";
    [Id(1)] public bool Training { get; init; }
    [Id(2)] public bool Serving { get; init; }

    /// <summary>The silo process's resident memory (bytes) when it answered.</summary>
    [Id(3)] public long WorkingSetBytes { get; init; }

    /// <summary>The silo process's managed heap (bytes) at its last garbage collection.</summary>
    [Id(4)] public long GcHeapBytes { get; init; }

    /// <summary>Heap compactions the silo ran after checkpoints since it started (<c>Freshet:Silo:HeapCompactionInterval</c>).</summary>
    [Id(5)] public long HeapCompactions { get; init; }

    /// <summary>The longest of those compactions (milliseconds, a pause of the whole silo); 0 before the first.</summary>
    [Id(6)] public double LongestHeapCompactionMs { get; init; }

    /// <summary>
    /// Memory the collector holds from the system (bytes, at its last collection): the managed heap with its free space
    /// and allocation budgets. The rest of <see cref="WorkingSetBytes"/> is native: the runtime, TorchSharp, the C library's heap.
    /// </summary>
    [Id(7)] public long GcCommittedBytes { get; init; }

    /// <summary>Native memory the C library handed back to the system after the compactions (bytes in all; Linux with glibc only, else 0).</summary>
    [Id(8)] public long NativeBytesTrimmed { get; init; }
}
