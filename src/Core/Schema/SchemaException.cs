namespace Freshet.Model.Schema;

/// <summary>A feature schema that cannot be used; the message names the file, the field and the problem.</summary>
public sealed class SchemaException : Exception
{
    public SchemaException(string message) : base(message) { }

    public SchemaException(string message, Exception inner) : base(message, inner) { }

    public SchemaException() { }
}
