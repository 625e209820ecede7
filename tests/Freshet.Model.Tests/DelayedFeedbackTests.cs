using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Hashing;
using Freshet.Model.Tests.Support;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>Delayed labels joined on event time, and FNW's and DEFER's weights teaching the true rate from a stream of provisional negatives.</summary>
public class DelayedFeedbackTests
{
    private static readonly long Hour = TimeSpan.TicksPerHour;

    private static Sample Click(long time, string item = "i1") => new()
    {
        Task = TaskKind.Cvr, Time = time, Label = 0, Ids = [IdHasher.Hash("u"), IdHasher.Hash(item), IdHasher.Hash("c")], Bags = [[]], Numerics = [0f],
    };

    [Fact]
    public void Waiting_trains_a_click_once_when_its_conversion_arrives_or_its_window_closes()
    {
        var join = new LabelJoin<int>(DelayedFeedback.Wait, TimeSpan.FromHours(12));
        var ready = new List<Sample>();
        join.Add(1, Click(10 * Hour), ready);
        join.Add(2, Click(11 * Hour), ready);
        Assert.Empty(ready);
        Assert.Equal(2, join.Pending);

        Assert.True(join.Positive(1, 13 * Hour, ready));
        var positive = Assert.Single(ready);
        Assert.Equal((1f, LabelArrival.Known, 10 * Hour, 13 * Hour), (positive.Label, positive.Arrival, positive.Time, positive.ConversionTime));

        ready.Clear();
        join.Advance(23 * Hour, ready); // click 2's window closes at 23 h: not yet
        Assert.Empty(ready);
        join.Advance(23 * Hour + 1, ready);
        var negative = Assert.Single(ready);
        Assert.Equal((0f, LabelArrival.Known, 11 * Hour, 0L), (negative.Label, negative.Arrival, negative.Time, negative.ConversionTime));
        Assert.Equal((1L, 1L, 0), (join.Joined, join.Closed, join.Pending));

        // Settled keys and unknown ones are counted, not errors; nothing trains twice.
        ready.Clear();
        Assert.False(join.Positive(2, 24 * Hour, ready));
        Assert.False(join.Positive(99, 24 * Hour, ready));
        Assert.Empty(ready);
        Assert.Equal(2, join.Unmatched);
    }

    [Fact]
    public void Fnw_trains_a_click_at_once_as_provisional_and_again_as_late_when_its_conversion_arrives()
    {
        var join = new LabelJoin<int>(DelayedFeedback.Fnw, TimeSpan.FromHours(12));
        var ready = new List<Sample>();
        join.Add(1, Click(10 * Hour), ready);
        join.Add(2, Click(11 * Hour), ready);
        Assert.Equal([LabelArrival.Provisional, LabelArrival.Provisional], ready.Select(s => s.Arrival));
        Assert.All(ready, s => Assert.Equal((0f, 0L), (s.Label, s.ConversionTime)));

        ready.Clear();
        Assert.True(join.Positive(2, 12 * Hour, ready));
        var late = Assert.Single(ready);
        Assert.Equal((1f, LabelArrival.Late, 11 * Hour, 12 * Hour), (late.Label, late.Arrival, late.Time, late.ConversionTime));

        // A window that closes trains nothing more: the negative went in at the click.
        ready.Clear();
        join.Advance(30 * Hour, ready);
        Assert.Empty(ready);
        Assert.Equal((1L, 1L, 0), (join.Joined, join.Closed, join.Pending));
    }

    [Fact]
    public void Defer_trains_every_click_at_once_and_again_with_its_real_label()
    {
        var join = new LabelJoin<int>(DelayedFeedback.Defer, TimeSpan.FromHours(12));
        var ready = new List<Sample>();
        join.Add(1, Click(10 * Hour), ready);
        join.Add(2, Click(11 * Hour), ready);
        Assert.Equal([LabelArrival.Immediate, LabelArrival.Immediate], ready.Select(s => s.Arrival));
        Assert.All(ready, s => Assert.Equal((0f, 0L), (s.Label, s.ConversionTime)));

        ready.Clear();
        Assert.True(join.Positive(2, 12 * Hour, ready));
        var positive = Assert.Single(ready);
        Assert.Equal((1f, LabelArrival.Duplicate, 11 * Hour, 12 * Hour), (positive.Label, positive.Arrival, positive.Time, positive.ConversionTime));

        // Unlike FNW, a window that closes trains the real negative: every click trains exactly twice.
        ready.Clear();
        join.Advance(22 * Hour + 1, ready);
        var negative = Assert.Single(ready);
        Assert.Equal((0f, LabelArrival.Duplicate, 10 * Hour, 0L), (negative.Label, negative.Arrival, negative.Time, negative.ConversionTime));
        Assert.Equal((1L, 1L, 0), (join.Joined, join.Closed, join.Pending));
        Assert.True(LabelArrival.Duplicate.IsRepeat() && LabelArrival.Late.IsRepeat());
        Assert.False(LabelArrival.Immediate.IsRepeat() || LabelArrival.Provisional.IsRepeat() || LabelArrival.Known.IsRepeat());
    }

    [Fact]
    public void Running_counts_take_a_trial_once_per_click_and_a_positive_when_it_was_known()
    {
        var click = Click(10 * Hour);
        CountEvent Trial(float positives) => new(10 * Hour, positives, 1);
        Assert.Equal((1, Trial(0), default(CountEvent)), LabelEvents.Of(click.Relabelled(0f, LabelArrival.Known, 0)));
        Assert.Equal((1, Trial(1), default(CountEvent)), LabelEvents.Of(click.Relabelled(1f, LabelArrival.Known, 10 * Hour)));
        // A conversion known later: the trial at the click, the positive at the conversion.
        Assert.Equal((2, Trial(0), new CountEvent(13 * Hour, 1, 0)), LabelEvents.Of(click.Relabelled(1f, LabelArrival.Known, 13 * Hour)));
        // First copies count the trial; repeats only a positive, and a repeated negative nothing.
        Assert.Equal((1, Trial(0), default(CountEvent)), LabelEvents.Of(click.Relabelled(0f, LabelArrival.Provisional, 0)));
        Assert.Equal((1, Trial(0), default(CountEvent)), LabelEvents.Of(click.Relabelled(0f, LabelArrival.Immediate, 0)));
        Assert.Equal((1, new CountEvent(13 * Hour, 1, 0), default(CountEvent)), LabelEvents.Of(click.Relabelled(1f, LabelArrival.Late, 13 * Hour)));
        Assert.Equal((1, new CountEvent(13 * Hour, 1, 0), default(CountEvent)), LabelEvents.Of(click.Relabelled(1f, LabelArrival.Duplicate, 13 * Hour)));
        Assert.Equal(0, LabelEvents.Of(click.Relabelled(0f, LabelArrival.Duplicate, 0)).Count);
    }

    [Fact]
    public void A_label_after_its_window_is_counted_as_expired_and_the_click_stays_a_negative()
    {
        var join = new LabelJoin<int>(DelayedFeedback.Wait, TimeSpan.FromHours(1));
        var ready = new List<Sample>();
        join.Add(1, Click(0), ready);
        Assert.False(join.Positive(1, 2 * Hour, ready)); // time was not advanced past the window before the label came
        var negative = Assert.Single(ready);
        Assert.Equal(0f, negative.Label);
        Assert.Equal((1L, 0L), (join.Expired, join.Joined));
    }

    [Theory]
    [InlineData(DelayedFeedback.Wait)]
    [InlineData(DelayedFeedback.Fnw)]
    [InlineData(DelayedFeedback.Defer)]
    public void At_capacity_the_oldest_click_settles_early_and_is_counted(DelayedFeedback method)
    {
        var join = new LabelJoin<int>(method, TimeSpan.FromHours(12), capacity: 2);
        var ready = new List<Sample>();
        join.Add(1, Click(1 * Hour), ready);
        join.Add(2, Click(2 * Hour), ready);
        join.Add(3, Click(3 * Hour), ready);
        Assert.Equal((2, 1L), (join.Pending, join.Evicted));
        // Under Wait the evicted click trains as a negative now; under FNW its negative already went in; DEFER does both.
        Assert.Equal(method switch { DelayedFeedback.Wait => 1, DelayedFeedback.Fnw => 3, _ => 4 }, ready.Count);
        ready.Clear();
        Assert.False(join.Positive(1, 4 * Hour, ready));
        Assert.True(join.Positive(2, 4 * Hour, ready));
        Assert.Single(ready);
    }

    [Fact]
    public void Fnw_weights_take_the_biased_stream_back_to_the_true_rate()
    {
        // b(1|x) = p / (1 + p): with the weights, the expected weighted positive share is p again, for any p.
        foreach (var p in new[] { 0.01f, 0.2f, 0.5f, 0.9f })
        {
            var b = p / (1 + p);
            var positive = b * DelayedFeedbacks.Weight(LabelArrival.Late, 1f, p);
            var negative = (1 - b) * DelayedFeedbacks.Weight(LabelArrival.Provisional, 0f, p);
            Assert.Equal(p, positive / (positive + negative), 5);
        }
        Assert.Equal(1f, DelayedFeedbacks.Weight(LabelArrival.Known, 0f, 0.7f));
        // DEFER's stream holds each click twice, once at once as a negative and once with its real label: b(1|x) = p / 2.
        foreach (var p in new[] { 0.01f, 0.2f, 0.5f, 0.9f })
        {
            var b = p / 2;
            var positive = b * DelayedFeedbacks.Weight(LabelArrival.Duplicate, 1f, p);
            var negative = (1 - b) * DelayedFeedbacks.Weight(LabelArrival.Immediate, 0f, p);
            Assert.Equal(negative / (1 - b), DelayedFeedbacks.Weight(LabelArrival.Duplicate, 0f, p), 6);
            Assert.Equal(p, positive / (positive + negative), 5);
        }
        Assert.Equal(1f, DelayedFeedbacks.Weight(LabelArrival.Known, 1f, 0.7f));
    }

    /// <summary>
    /// Two items with true conversion rates 0.1 and 0.4. Fed as FNW's stream (every click a provisional negative, each
    /// conversion a late positive), the weighted step learns rates near the true ones; unweighted, the same stream
    /// teaches p / (1 + p) (0.09 and 0.29). The ranking is the same either way; the calibration is what the weights fix.
    /// </summary>
    [Fact]
    public async Task A_model_trained_on_fnw_stream_predicts_the_true_rates()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        var rates = new Dictionary<string, double> { ["a"] = 0.1, ["b"] = 0.4 };

        async Task<Dictionary<string, double>> LearnedAsync(bool weighted, int seed, bool defer = false)
        {
            var rng = new Random(seed);
            var stream = new List<Sample>();
            for (var i = 0; i < 12_000; i++)
            {
                var item = i % 2 == 0 ? "a" : "b";
                var click = Click(Hour + i * TimeSpan.TicksPerSecond, item);
                var converted = rng.NextDouble() < rates[item];
                if (defer)
                {
                    stream.Add(click.Relabelled(0f, LabelArrival.Immediate, 0));
                    stream.Add(click.Relabelled(converted ? 1f : 0f, LabelArrival.Duplicate, converted ? click.Time : 0));
                    continue;
                }
                stream.Add(click.Relabelled(0f, weighted ? LabelArrival.Provisional : LabelArrival.Known, 0));
                if (converted) stream.Add(click.Relabelled(1f, weighted ? LabelArrival.Late : LabelArrival.Known, click.Time));
            }
            using var store = new InProcessParameterStore(schema);
            var trainer = new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 64, CvrBatchSize = 64 });
            await trainer.ReplayAsync(stream);
            var scores = new float[1];
            var learned = new Dictionary<string, double>();
            var step = new TrainingStep(store, Strategy.Base);
            foreach (var item in rates.Keys)
            {
                await step.ScoreAsync([Click(Hour * 10, item)], TaskKind.Cvr, scores);
                learned[item] = scores[0];
            }
            return learned;
        }

        // A stream's end state moves with its last batches: the mean over three streams.
        async Task<Dictionary<string, double>> MeanAsync(bool weighted, bool defer = false)
        {
            var runs = new List<Dictionary<string, double>>();
            for (var seed = 1; seed <= 3; seed++) runs.Add(await LearnedAsync(weighted, seed, defer));
            return rates.Keys.ToDictionary(k => k, k => runs.Average(r => r[k]));
        }
        var fnw = await MeanAsync(weighted: true);
        var naive = await MeanAsync(weighted: false);
        var defer = await MeanAsync(weighted: true, defer: true);
        foreach (var (item, p) in rates)
        {
            Assert.True(Math.Abs(fnw[item] - p) < 0.04, $"item {item}: FNW learned {fnw[item]:F3}, the true rate is {p}");
            Assert.True(Math.Abs(defer[item] - p) < 0.04, $"item {item}: DEFER learned {defer[item]:F3}, the true rate is {p}");
            Assert.True(Math.Abs(naive[item] - p / (1 + p)) < 0.04, $"item {item}: unweighted learned {naive[item]:F3}, the biased rate is {p / (1 + p):F3}");
        }
        Assert.True(fnw["b"] - naive["b"] > 0.06, $"FNW {fnw["b"]:F3} should sit well above the unweighted {naive["b"]:F3} on the 0.4 item");
    }
}
