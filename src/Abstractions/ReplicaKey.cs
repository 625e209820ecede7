
namespace Freshet;

/// <summary>The key of a model's replica on one serving silo: <c>{model}/{silo}</c>; the grain is placed on that silo.</summary>
public readonly record struct ReplicaKey(string Model, SiloAddress Silo)
{
    public override string ToString() => $"{Model}/{Silo.ToParsableString()}";

    public static ReplicaKey Parse(string key)
    {
        var cut = key.LastIndexOf('/');
        if (cut > 0)
        {
            try
            {
                return new ReplicaKey(key[..cut], SiloAddress.FromParsableString(key[(cut + 1)..]));
            }
            catch (FormatException)
            {
            }
        }
        throw new ArgumentException($"replica key '{key}' is not '{{model}}/{{silo address}}'", nameof(key));
    }
}
