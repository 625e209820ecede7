using Freshet.Client;
using Freshet.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>A request larger than a message may be is refused by the SDK before it is sent, and never retried.</summary>
public class RequestSizeTests
{
    [Fact]
    public async Task A_scoring_request_over_the_message_limit_is_refused_up_front_with_its_size_and_never_retried()
    {
        const int limit = 256 * 1024;
        await using var h = await ClusterHarness.StartAsync(maxMessageBytes: limit);
        var client = new FreshetClient(h.Client) { ScoringRetryLimit = TimeSpan.FromSeconds(20) };
        var retries = 0;
        client.Retrying += _ => Interlocked.Increment(ref retries);
        // 300 rows of a 1,000-character value each: every row within the request limits, the whole over 256 KB. Before, the
        // silo closed the connection, the SDK took that for a silo going away and sent it again until its retry limit.
        var rows = Enumerable.Range(0, 300).Select(i => ScoreRow.Of(("user", new string((char)('a' + i % 26), 1000)))).ToList();
        var e = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync("shop", rows));
        Assert.Equal(limit, client.MaxRequestBytes);
        Assert.Contains("a scoring request of 300 rows", e.Message, StringComparison.Ordinal);
        Assert.Contains($"over the {limit:N0} one message carries", e.Message, StringComparison.Ordinal);
        Assert.Contains("split it into calls of at most", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, retries);
        // A request that fits goes through to the silo (which says the model has nothing to serve).
        var fits = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync("shop", rows.Take(10).ToList()));
        Assert.Contains("has no checkpoint", fits.Message, StringComparison.Ordinal);
    }
}
