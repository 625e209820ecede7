namespace Freshet.Model.Data;

/// <summary>A row that cannot be read, under the <c>fail</c> policy; names the file, the line and the reason.</summary>
public sealed class MalformedRowException : Exception
{
    public MalformedRowException(string file, long line, string reason, string detail)
        : base($"{file}:{line}: {detail} (bad row policy 'fail' stops here; use --bad-rows skip to skip and count such rows)")
    {
        File = file;
        Line = line;
        Reason = reason;
        Detail = detail;
    }

    public MalformedRowException() { }

    public MalformedRowException(string message) : base(message) { }

    public MalformedRowException(string message, Exception inner) : base(message, inner) { }

    public string File { get; } = "";

    public long Line { get; }

    /// <summary>Short category of the problem (columns, time, number, label, explode).</summary>
    public string Reason { get; } = "";

    public string Detail { get; } = "";
}
