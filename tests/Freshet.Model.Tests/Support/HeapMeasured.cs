namespace Freshet.Model.Tests.Support;

/// <summary>
/// Tests that measure the process's live heap run alone, after the parallel ones: a test allocating beside them (a
/// stream read into a list) moves what they measure, and a bound on growth would then fail for another test's bytes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasured
{
    public const string Name = "heap measured";
}
