using Freshet.Grains.Hosting;
using Freshet.Model.Telemetry;
using Microsoft.Extensions.Options;

namespace Freshet.Grains;

/// <summary>
/// This silo's clock for times that arrive on the wire (scoring requests, predictions logged for joiners, labels,
/// samples): a time more than <see cref="SiloLimitsOptions.MaxClockSkew"/> ahead of it is refused and counted
/// (<see cref="FreshetInstruments.TimesRejected"/>, by input). Only the future is refused: replays and simulations
/// send times in the past on purpose, and a past time moves no clock.
/// </summary>
public sealed class WireClock(TimeProvider time, IOptions<SiloLimitsOptions> limits, FreshetInstruments instruments)
{
    public TimeSpan MaxSkew { get; } = limits.Value.MaxClockSkew;

    /// <summary>The latest time taken now (UTC ticks): the silo's clock plus the skew allowed.</summary>
    public long Latest => time.GetUtcNow().UtcTicks + MaxSkew.Ticks;

    /// <summary>Whether <paramref name="ticks"/> (UTC) is further ahead of this silo's clock than the skew allowed.</summary>
    public bool IsAhead(long ticks) => ticks > Latest;

    /// <summary>What is wrong with <paramref name="utc"/> as the time of <paramref name="what"/>, or null.</summary>
    public string? Problem(DateTime utc, string what)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var ticks = utc.Kind == DateTimeKind.Local ? utc.ToUniversalTime().Ticks : utc.Ticks;
        return ticks <= now.Ticks + MaxSkew.Ticks
            ? null
            : $"{what}: its time {utc:O} is {TimeSpan.FromTicks(ticks - now.Ticks)} ahead of this silo's clock ({now:O}); at most {MaxSkew} is taken ({FreshetNames.SiloSection}:MaxClockSkew): send the time the event happened, by a clock kept in sync";
    }

    /// <summary>Counts <paramref name="count"/> times of <paramref name="input"/> (score, prediction-log, label, sample) refused for <paramref name="model"/> (or job).</summary>
    public void Rejected(string model, string input, long count = 1)
    {
        if (count > 0) instruments.TimesRejected.Add(count, FreshetTags.Of(model).With("input", input));
    }
}
