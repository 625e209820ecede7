using System.Globalization;
using Freshet.Client;
using Freshet.Feedback;
using Freshet.Serving;

// A shop's ranking service on Freshet: /rank scores a shopper's candidates and orders them by the chance of a
// purchase (pCTR x pCVR); /click and /conversion report what the shopper did with a ranked item, by the
// prediction id /rank returned, so the model learns from it within seconds.
var builder = WebApplication.CreateBuilder(args);
builder.AddFreshetClient(); // Freshet:Client (Profile, GatewayPort, ...) from appsettings.json or Freshet__Client__* variables
var app = builder.Build();
var model = app.Configuration["Shop:Model"] ?? "shop";

app.MapGet("/", () => Results.Ok(new { service = "shop", model }));

app.MapPost("/rank", async (RankRequest request, FreshetClient freshet) =>
{
    if (string.IsNullOrEmpty(request.User)) return Results.BadRequest(new { error = "user: name the shopper" });
    if (request.Candidates is not { Count: > 0 } candidates) return Results.BadRequest(new { error = "candidates: give at least one item" });
    var rows = candidates.Select(c => ScoreRow.Of(
        ("user", request.User), ("item", c.Item), ("category", c.Category ?? ""), ("price", c.Price.ToString(CultureInfo.InvariantCulture)))).ToList();
    try
    {
        var predictions = await freshet.ScoreAsync(model, rows);
        var ranked = candidates
            .Select((c, i) => new RankedItem(c.Item, predictions[i].Id.ToString(), predictions[i].Ctr, predictions[i].Cvr, predictions[i].Ctcvr))
            .OrderByDescending(r => r.PurchaseChance)
            .ToList();
        return Results.Ok(new RankResponse(predictions[0].Weights.ToString(), predictions[0].WeightsAge.TotalSeconds, ranked));
    }
    catch (ScoringRequestException e)
    {
        return Results.BadRequest(new { error = e.Message });
    }
});

app.MapPost("/click", (FeedbackRequest request, FreshetClient freshet) => ReportAsync(freshet, request, FeedbackEvent.Click));
app.MapPost("/conversion", (FeedbackRequest request, FreshetClient freshet) => ReportAsync(freshet, request, FeedbackEvent.Conversion));

app.Run();

static async Task<IResult> ReportAsync(FreshetClient freshet, FeedbackRequest request, FeedbackEvent what)
{
    if (!PredictionId.TryParse(request.PredictionId, out var id))
    {
        return Results.BadRequest(new { error = $"predictionId: '{request.PredictionId}' is not one; pass an item's predictionId as /rank returned it" });
    }
    try
    {
        await freshet.ReportAsync(id, what, request.Time ?? DateTime.UtcNow);
        return Results.Accepted();
    }
    catch (FeedbackException e)
    {
        return Results.BadRequest(new { error = e.Message });
    }
}

/// <summary>A shopper and the items that could be shown.</summary>
internal sealed record RankRequest(string User, List<Candidate> Candidates);

internal sealed record Candidate(string Item, string? Category, double Price);

internal sealed record RankedItem(string Item, string PredictionId, float Click, float Conversion, float PurchaseChance);

internal sealed record RankResponse(string Weights, double WeightsAgeSeconds, List<RankedItem> Items);

/// <summary>What a shopper did with a ranked item (its predictionId from /rank), and when (default: now).</summary>
internal sealed record FeedbackRequest(string PredictionId, DateTime? Time);
