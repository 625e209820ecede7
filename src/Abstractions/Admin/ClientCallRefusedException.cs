namespace Freshet.Admin;

/// <summary>
/// A call a client may not make: the method is not open to clients, or an admin call came without
/// an admin certificate. The message says what to call or which certificate to use; the silo goes on serving.
/// </summary>
[GenerateSerializer, Alias("Freshet.Admin.ClientCallRefusedException")]
public sealed class ClientCallRefusedException : Exception
{
    public ClientCallRefusedException() { }

    public ClientCallRefusedException(string message) : base(message) { }

    public ClientCallRefusedException(string message, Exception inner) : base(message, inner) { }
}
