namespace Freshet.Model.Schema;

/// <summary>A field computed from the event time instead of read from a column.</summary>
public enum TimeDerivation
{
    None,
    HourOfDay,
    DayOfWeek,
}
