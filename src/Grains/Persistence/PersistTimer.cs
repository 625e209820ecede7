namespace Freshet.Grains.Persistence;

/// <summary>The timer that writes a tier's grain state every persist interval when it changed.</summary>
internal static class PersistTimer
{
    public static IGrainTimer Start(IGrainBase grain, IGrainTimer? previous, TimeSpan interval, Func<bool> dirty, Func<Task> persist)
    {
        previous?.Dispose();
        var every = interval <= TimeSpan.Zero ? TimeSpan.FromSeconds(30) : interval;
        return grain.RegisterGrainTimer(async _ =>
        {
            if (dirty()) await persist();
        }, new GrainTimerCreationOptions(every, every) { Interleave = false, KeepAlive = false });
    }
}
