namespace Freshet.Grains.Jobs;

/// <summary>What storage answered when it failed, said in one line for an operator.</summary>
internal static class StorageFailures
{
    /// <summary>The failure's cause in one line; the storage client's retries say how many there were and what the last one got.</summary>
    public static string Describe(Exception e)
    {
        var cause = e.GetBaseException();
        if (cause is AggregateException { InnerExceptions.Count: > 0 } tries)
        {
            var lastTry = tries.InnerExceptions[^1].GetBaseException();
            return $"{tries.InnerExceptions.Count} tries, the last: {lastTry.GetType().Name}: {FirstLine(lastTry.Message)}";
        }
        return $"{cause.GetType().Name}: {FirstLine(cause.Message)}";
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
