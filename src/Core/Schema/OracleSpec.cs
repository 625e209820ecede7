namespace Freshet.Model.Schema;

/// <summary>Columns with the true click and conversion probability of each row, where a simulator knows them.</summary>
public sealed class OracleSpec
{
    public string? Click { get; set; }

    public string? Conversion { get; set; }
}
