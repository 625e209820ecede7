using System.Diagnostics;

namespace Freshet.Tools.Output;

/// <summary>A one-line progress bar redrawn in place on an interactive error stream, at most a few times a second.</summary>
public sealed class ProgressBar(TextWriter writer, bool enabled, long? total)
{
    private const int Width = 30;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1;

    public void Report(long done, string detail) => Report(done, () => detail);

    /// <summary>Redraws if due; <paramref name="detail"/> is only computed then (a recent AUC sorts thousands of scores).</summary>
    public void Report(long done, Func<string> detail)
    {
        if (!enabled) return;
        var now = _clock.ElapsedMilliseconds;
        if (_lastDraw >= 0 && now - _lastDraw < 250) return;
        _lastDraw = now;
        string bar;
        if (total is > 0)
        {
            var f = Math.Clamp((double)done / total.Value, 0, 1);
            var filled = (int)(f * Width);
            bar = $"[{new string('#', filled)}{new string('.', Width - filled)}] {f,4:P0}";
        }
        else
        {
            bar = $"[{done:N0}]";
        }
        writer.Write($"\r{bar} {detail()}".PadRight(110));
        writer.Flush();
    }

    public void Done()
    {
        if (!enabled) return;
        writer.Write("\r" + new string(' ', 110) + "\r");
        writer.Flush();
    }
}
