namespace Freshet.Grains.Hosting;

/// <summary>The local profile: localhost clustering, memory (or folder) grain state, memory streams, checkpoints in a folder.</summary>
public sealed class LocalProfileOptions
{
    /// <summary>Where full checkpoints go.</summary>
    public string CheckpointDirectory { get; set; } = "checkpoints";

    /// <summary>Keep grain state in files here (jobs and the changing tier survive a restart); null keeps it in memory.</summary>
    public string? StateDirectory { get; set; }
}
