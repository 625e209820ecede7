using System.Globalization;

namespace Freshet.Model.Data;

/// <summary>Parses event times in the formats a schema names; every result is UTC ticks.</summary>
public sealed class TimeParser(string format)
{
    private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;
    private const DateTimeStyles Utc = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces;

    public string Format { get; } = format;

    public bool TryParse(string text, out long ticks)
    {
        ticks = 0;
        switch (Format)
        {
            case "unix-seconds":
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || !double.IsFinite(s)) return false;
                ticks = UnixEpochTicks + (long)Math.Round(s * TimeSpan.TicksPerSecond);
                return true;
            case "unix-millis":
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) || !double.IsFinite(ms)) return false;
                ticks = UnixEpochTicks + (long)Math.Round(ms * TimeSpan.TicksPerMillisecond);
                return true;
            case "iso8601":
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, Utc, out var dto)) return false;
                ticks = dto.UtcTicks;
                return true;
            default:
                if (!DateTime.TryParseExact(text, Format, CultureInfo.InvariantCulture, Utc, out var dt)) return false;
                ticks = dt.Ticks;
                return true;
        }
    }

    public static string ToIso(long ticks) => new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
