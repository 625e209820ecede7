namespace Freshet.Model.Schema;

/// <summary>The event-time column of a log.</summary>
public sealed class TimeSpec
{
    public string Column { get; set; } = "";

    /// <summary>
    /// <c>unix-seconds</c>, <c>unix-millis</c>, <c>iso8601</c>, a .NET date format string (times are
    /// UTC), or <c>row-order</c> for logs that are in time order but carry no time (Criteo): then the
    /// n-th data row happens n seconds after <see cref="Origin"/>, and there is no time column.
    /// </summary>
    public string Format { get; set; } = "iso8601";

    /// <summary>With <c>row-order</c>: the time of the first row (ISO 8601, default 2000-01-01T00:00:00Z).</summary>
    public string? Origin { get; set; }

    public const string RowOrder = "row-order";
}
