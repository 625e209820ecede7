namespace Freshet;

/// <summary>The names silos, clients and tools agree on: stream namespaces and provider names.</summary>
public static class FreshetNames
{
    /// <summary>
    /// The silos' stream provider: samples, labels, weight deltas. Silos write and read it; clients register none (an
    /// application publishes samples through <c>ISampleIntakeGrain</c> and labels through <c>IJoinerGrain</c>).
    /// </summary>
    public const string StreamProvider = "freshet";

    /// <summary>Stream namespace of CTR and CVR samples.</summary>
    public const string SamplesNamespace = "samples";

    /// <summary>Grain storage of the changing and dense tiers and of job state.</summary>
    public const string GrainStorage = "freshet";

    /// <summary>Storage the memory stream provider keeps its subscriptions in.</summary>
    public const string PubSubStorage = "PubSubStore";

    /// <summary>The configuration section of a silo's settings (<c>Freshet__Silo__*</c> variables): every options class of the silo binds it.</summary>
    public const string SiloSection = "Freshet:Silo";

    public const string DefaultClusterId = "freshet";

    public const string DefaultServiceId = "freshet";

    /// <summary>Azure Table of the cluster's membership (azurite and azure profiles).</summary>
    public const string ClusteringTable = "freshetsilos";

    /// <summary>Azure queues behind the stream provider: <c>freshet-0</c> .. <c>freshet-{n-1}</c>.</summary>
    public const int DefaultQueueCount = 4;

    public static IReadOnlyList<string> QueueNames(int count = DefaultQueueCount) => [.. Enumerable.Range(0, count).Select(i => $"freshet-{i}")];
}
