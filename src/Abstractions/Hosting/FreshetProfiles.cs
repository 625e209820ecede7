namespace Freshet.Hosting;

/// <summary>The profiles' names as configuration and command lines give them, and their parsing.</summary>
public static class FreshetProfiles
{
    /// <summary>Every profile's name, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<FreshetProfile>().Select(Name)];

    /// <summary>The profile's name as configuration writes it.</summary>
    public static string Name(this FreshetProfile profile) => profile switch
    {
        FreshetProfile.Local => "local",
        FreshetProfile.Azurite => "azurite",
        FreshetProfile.Azure => "azure",
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "not a profile"),
    };

    /// <summary>The profile named <paramref name="text"/> (exactly, lower case), if it is one of <paramref name="allowed"/> (all when none are given).</summary>
    public static bool TryParse(string? text, out FreshetProfile profile, params FreshetProfile[] allowed)
    {
        foreach (var p in Allowed(allowed))
        {
            if (string.Equals(text, p.Name(), StringComparison.Ordinal))
            {
                profile = p;
                return true;
            }
        }
        profile = default;
        return false;
    }

    /// <summary>
    /// The profile named <paramref name="text"/>, or an <see cref="ArgumentException"/> naming <paramref name="key"/> (the
    /// configuration key or option it came from) and the profiles allowed there.
    /// </summary>
    public static FreshetProfile Parse(string? text, string key, params FreshetProfile[] allowed) =>
        TryParse(text, out var profile, allowed)
            ? profile
            : throw new ArgumentException($"{key}: '{text}' is not a profile; use one of: {string.Join(", ", Allowed(allowed).Select(Name))}");

    private static FreshetProfile[] Allowed(FreshetProfile[] allowed) => allowed.Length == 0 ? Enum.GetValues<FreshetProfile>() : allowed;
}
