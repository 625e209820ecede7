namespace Freshet.Client;

/// <summary>A silo of the cluster as the client sees it.</summary>
/// <param name="Address">The silo's address (Orleans' parsable form).</param>
/// <param name="Status">Its status in the membership (Active, ShuttingDown, Dead, ...).</param>
public sealed record SiloInfo(string Address, string Status);
