namespace Freshet.Tools.Output;

/// <summary>Where a command writes: results to <see cref="Out"/>, progress and errors to <see cref="Error"/>.</summary>
public sealed class CliContext(TextWriter output, TextWriter error, bool interactive)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>Whether a person watches the error stream (then a progress bar is drawn on it).</summary>
    public bool Interactive { get; } = interactive;

    public static CliContext FromConsole() => new(Console.Out, Console.Error, !Console.IsErrorRedirected);
}
