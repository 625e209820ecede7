using Freshet.Client;
using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Model.Feedback;
using Freshet.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>The feedback loop through the SDK: scored rows logged for their joiners, labels reported, samples reaching the trainer.</summary>
public class FeedbackLoopTests
{
    private static IReadOnlyList<ScoreRow> Rows(int n) =>
        [.. Enumerable.Range(0, n).Select(i => ScoreRow.Of(("user", "u" + (i % 7)), ("item", "i" + i), ("category", "c" + (i % 3)), ("device", "d1"), ("price", "12.5")))];

    [Fact]
    public async Task Labels_for_served_predictions_come_back_as_training_samples_and_the_rest_is_counted()
    {
        // The labels below move the joiners' clocks up to thirteen hours past the wall clock: allowed here, refused by default.
        await using var h = await ClusterHarness.StartAsync(limits: l => l.MaxClockSkew = TimeSpan.FromDays(1));
        var client = new FreshetClient(h.Client);
        const string model = "loop";
        var spec = await h.ServeAsync(model, new FeedbackSpec { Method = DelayedFeedback.Fnw, Joiners = 2, ClickWindow = TimeSpan.FromMinutes(30), AttributionWindow = TimeSpan.FromHours(12) }, samples: 4_000);
        var job = spec.JobOf(DeploymentJob.Main);

        // Every answer names itself: model, joiner, a unique value; the text form parses back.
        var predictions = await client.ScoreAsync(model, Rows(40));
        Assert.All(predictions, p => Assert.Equal(model, p.Id.Model));
        Assert.All(predictions, p => Assert.InRange(p.Id.Joiner, 0, 1));
        Assert.Equal(40, predictions.Select(p => p.Id.Value).Distinct().Count());
        Assert.Equal(predictions[0].Id, PredictionId.Parse(predictions[0].Id.ToString()));

        async Task<JoinerStatus[]> Joiners() => await Task.WhenAll(Enumerable.Range(0, 2).Select(j => h.Client.Joiner(model, j).GetStatusAsync()));
        async Task<long> Received() => (await client.GetJobStatusAsync(job)).Trainers.Sum(t => t.SamplesReceived);
        await PublishingTests.WaitAsync(async () => (await Joiners()).Sum(j => j.Predictions) == 40, "serving logs the 40 rows with their joiners");
        // Under FNW each impression trains at once as a provisional CTR negative.
        await PublishingTests.WaitAsync(async () => await Received() == 4_000 + 40, "the trainer has every published sample and the 40 provisional CTR negatives");
        var before = await Received();
        var t = DateTime.UtcNow; // labels come after the scoring

        // Ten clicks and three of them converting: under FNW ten late CTR positives, ten provisional CVR negatives and three late positives.
        await client.ReportAsync([.. predictions.Take(10).Select(p => new FeedbackLabel { Prediction = p.Id, Event = FeedbackEvent.Click, Time = t.AddSeconds(1) })]);
        for (var i = 0; i < 3; i++) await client.ReportAsync(predictions[i].Id.ToString(), FeedbackEvent.Conversion, t.AddSeconds(2));
        await PublishingTests.WaitAsync(async () => await Received() == before + 23, "the trainer receives 10 + 10 + 3 samples");

        // Labels the joiners do not hold are counted, not errors: an id never served, a second click.
        await client.ReportAsync(PredictionId.New(model, 2), FeedbackEvent.Click, t.AddSeconds(3));
        await client.ReportAsync(predictions[0].Id, FeedbackEvent.Click, t.AddSeconds(3));

        // Each joiner's clock moves with the times of what it hears (and the wall clock): a label for an id it never
        // served (counted as unmatched) moves it.
        async Task AdvanceAsync(DateTime to)
        {
            for (var j = 0; j < 2; j++) await client.ReportAsync(new PredictionId(model, j, Guid.NewGuid()), FeedbackEvent.Click, to);
        }

        // Half an hour on: a conversion joins; the 30 impressions never clicked close their window (they trained as negatives already).
        await client.ReportAsync(predictions[5].Id, FeedbackEvent.Conversion, t.AddMinutes(31));
        await client.ReportAsync(predictions[1].Id, FeedbackEvent.Conversion, t.AddMinutes(31)); // converted already: unmatched
        await AdvanceAsync(t.AddMinutes(31));
        Assert.Equal(40 + 10, (await Joiners()).Sum(j => j.CtrSamples));
        // Thirteen hours on, past the attribution window: late conversions are counted as expired; then every window has closed.
        await client.ReportAsync([.. predictions.Skip(6).Take(2).Select(p => new FeedbackLabel { Prediction = p.Id, Event = FeedbackEvent.Conversion, Time = t.AddHours(13) })]);
        await AdvanceAsync(t.AddHours(13));

        var joiners = await Joiners();
        Assert.Equal(10, joiners.Sum(j => j.Clicks));
        Assert.Equal(4, joiners.Sum(j => j.Conversions));
        Assert.Equal(40 + 10, joiners.Sum(j => j.CtrSamples));
        Assert.Equal(10 + 4, joiners.Sum(j => j.CvrSamples));
        Assert.Equal(7, joiners.Sum(j => j.LabelsUnmatched)); // the unknown id, the second click, the second conversion, and the four clock moves
        Assert.Equal(2, joiners.Sum(j => j.LabelsExpired));
        Assert.Equal(0, joiners.Sum(j => j.PendingImpressions));
        Assert.Equal(0, joiners.Sum(j => j.PendingClicks));
        await PublishingTests.WaitAsync(async () => await Received() == before + 10 + 14, "the trainer receives every sample the joiners made");

        // What serving answered, scored once each label settled: one weights version answered all 40 rows.
        var status = await client.GetStatusAsync(model);
        var served = Assert.Single(status.Feedback!.Quality);
        Assert.Equal(predictions[0].Weights, served.Weights);
        Assert.Equal((40L, 10L), (served.Ctr.Count, served.Ctr.PositiveCount));
        Assert.Equal((10L, 4L), (served.Cvr.Count, served.Cvr.PositiveCount));
        Assert.NotNull(served.Ctr.Auc);
        Assert.InRange(served.Ctr.LogLoss!.Value, 0.01, 5);

        // A model without a feedback loop says so.
        var refused = await Assert.ThrowsAsync<FeedbackException>(() => client.ReportAsync(PredictionId.New("other", 1), FeedbackEvent.Click, t));
        Assert.Contains("model 'other' logs no predictions: start its deployment with a feedback spec", refused.Message);
        var malformed = Assert.Throws<FormatException>(() => PredictionId.Parse("loop/x/123"));
        Assert.Contains("{model}/{joiner}/{32 hex digits}", malformed.Message);
    }
    [Fact]
    public async Task Under_defer_every_impression_and_click_trains_twice_once_at_once_and_once_with_its_real_label()
    {
        await using var h = await ClusterHarness.StartAsync(limits: l => l.MaxClockSkew = TimeSpan.FromDays(1));
        var client = new FreshetClient(h.Client);
        const string model = "deferloop";
        var spec = await h.ServeAsync(model, new FeedbackSpec { Method = DelayedFeedback.Defer, Joiners = 1, ClickWindow = TimeSpan.FromMinutes(30), AttributionWindow = TimeSpan.FromHours(12) }, samples: 2_000);
        var job = spec.JobOf(DeploymentJob.Main);
        async Task<long> Received() => (await client.GetJobStatusAsync(job)).Trainers.Sum(t => t.SamplesReceived);
        async Task<JoinerStatus> Joiner() => await h.Client.Joiner(model, 0).GetStatusAsync();

        var predictions = await client.ScoreAsync(model, Rows(20));
        await PublishingTests.WaitAsync(async () => (await Joiner()).Predictions == 20, "serving logs the 20 rows with the joiner");
        // Each impression trains at once as an immediate CTR negative.
        await PublishingTests.WaitAsync(async () => await Received() == 2_000 + 20, "the trainer has the 20 immediate CTR negatives");
        var t = DateTime.UtcNow;

        // Five clicks, two converting: five CTR duplicates (positive), five immediate CVR negatives, two CVR duplicates (positive).
        await client.ReportAsync([.. predictions.Take(5).Select(p => new FeedbackLabel { Prediction = p.Id, Event = FeedbackEvent.Click, Time = t.AddSeconds(1) })]);
        for (var i = 0; i < 2; i++) await client.ReportAsync(predictions[i].Id, FeedbackEvent.Conversion, t.AddSeconds(2));
        await PublishingTests.WaitAsync(async () => await Received() == 2_000 + 20 + 5 + 5 + 2, "the trainer receives 5 + 5 + 2 samples");

        // The click window closes: the fifteen impressions never clicked train again, as real negatives (FNW would train none).
        await client.ReportAsync(new PredictionId(model, 0, Guid.NewGuid()), FeedbackEvent.Click, t.AddMinutes(31));
        await PublishingTests.WaitAsync(async () => (await Joiner()).CtrSamples == 20 + 5 + 15, "every impression trained twice");
        // The attribution window closes: the three clicks that did not convert train again, as real negatives.
        await client.ReportAsync(new PredictionId(model, 0, Guid.NewGuid()), FeedbackEvent.Click, t.AddHours(13));
        await PublishingTests.WaitAsync(async () => (await Joiner()).CvrSamples == 5 + 2 + 3, "every click trained twice");
        var joiner = await Joiner();
        Assert.Equal((0, 0), (joiner.PendingImpressions, joiner.PendingClicks));
        await PublishingTests.WaitAsync(async () => await Received() == 2_000 + 40 + 10, "the trainer receives every sample the joiner made");
    }
}
