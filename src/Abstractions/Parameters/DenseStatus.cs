namespace Freshet.Parameters;

[GenerateSerializer, Immutable, Alias("Freshet.Parameters.DenseStatus")]
public sealed record DenseStatus
{
    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public long CtrVersion { get; init; }
    [Id(2)] public long CvrVersion { get; init; }

    /// <summary>The last step of each trainer applied here.</summary>
    [Id(3)] public IReadOnlyDictionary<string, long> Steps { get; init; } = new Dictionary<string, long>();

    [Id(4)] public long? LoadedCheckpoint { get; init; }

    /// <summary>Seconds this activation spent applying pushes and answering pulls: against wall time, how busy the one dense grain is.</summary>
    [Id(5)] public double BusySeconds { get; init; }
}
