using System.ComponentModel.DataAnnotations;

namespace Freshet.Silo;

/// <summary>Settings of a Freshet silo (configuration section <c>Freshet:Silo</c>, or <c>FRESHET__SILO__*</c> variables).</summary>
public sealed class SiloOptions
{
    public const string Section = "Freshet:Silo";

    /// <summary><c>local</c>: localhost clustering, memory storage and streams.</summary>
    [Required]
    public string Profile { get; set; } = "local";

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    [Required, MinLength(1)]
    public string ClusterId { get; set; } = FreshetNames.DefaultClusterId;

    [Required, MinLength(1)]
    public string ServiceId { get; set; } = FreshetNames.DefaultServiceId;

    /// <summary>Where the local profile keeps full checkpoints.</summary>
    public string CheckpointDirectory { get; set; } = "checkpoints";

    /// <summary>Local profile: keep grain state in files here (jobs and the changing tier survive a restart); null keeps it in memory.</summary>
    public string? StateDirectory { get; set; }
}
