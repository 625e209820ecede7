namespace Freshet.Grains.Hosting;

/// <summary>
/// The azurite profile: Azure Table clustering, Azure Blob grain state and checkpoints, Azure Queue streams, against
/// the storage emulator or any storage account given by connection string.
/// </summary>
public sealed class AzuriteProfileOptions
{
    /// <summary>The storage emulator on its standard loopback ports: the default, and only this profile's.</summary>
    public const string Emulator = "UseDevelopmentStorage=true";

    /// <summary>Storage connection string (default: the emulator).</summary>
    public string? StorageConnectionString { get; set; }

    public string ConnectionString => string.IsNullOrWhiteSpace(StorageConnectionString) ? Emulator : StorageConnectionString;
}
