namespace Freshet.Model.Schema;

/// <summary>The event-time column of a log.</summary>
public sealed class TimeSpec
{
    public string Column { get; set; } = "";

    /// <summary><c>unix-seconds</c>, <c>unix-millis</c>, <c>iso8601</c>, or a .NET date format string (times are UTC).</summary>
    public string Format { get; set; } = "iso8601";
}
