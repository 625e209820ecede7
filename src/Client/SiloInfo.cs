namespace Freshet.Client;

/// <summary>A silo of the cluster as the client sees it.</summary>
public sealed record SiloInfo(string Address, string Status);
