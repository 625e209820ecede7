namespace Freshet.Admin;

/// <summary>An admin call refused: the silo it reached does not take admin calls, or it did not come through a front door.</summary>
[GenerateSerializer, Alias("Freshet.Admin.AdminCallsDisabledException")]
public sealed class AdminCallsDisabledException : Exception
{
    public AdminCallsDisabledException() { }

    public AdminCallsDisabledException(string message) : base(message) { }

    public AdminCallsDisabledException(string message, Exception inner) : base(message, inner) { }
}
