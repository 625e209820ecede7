using System.Globalization;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Synthetic;

namespace Freshet.Model.Tests;

public class SyntheticStreamTests
{
    private static List<RawRow> Rows(SyntheticOptions o, int n) => [.. new SyntheticStream(o).Read(new BadRows(BadRowPolicy.Fail)).Take(n)];

    private static int Col(string name) => SyntheticStream.Columns.ToList().IndexOf(name);

    [Fact]
    public void The_same_seed_gives_the_same_stream_and_another_seed_another()
    {
        var a = Rows(new SyntheticOptions { Seed = 5 }, 2000);
        var b = Rows(new SyntheticOptions { Seed = 5 }, 2000);
        var c = Rows(new SyntheticOptions { Seed = 6 }, 2000);
        Assert.Equal(a.Select(r => string.Join(',', r.Columns)), b.Select(r => string.Join(',', r.Columns)));
        Assert.NotEqual(a.Select(r => string.Join(',', r.Columns)), c.Select(r => string.Join(',', r.Columns)));
    }

    [Fact]
    public void Session_intents_leave_a_stream_without_them_as_it_was_and_make_a_users_last_click_say_what_is_clicked_next()
    {
        string Text(List<RawRow> rows) => string.Join('\n', rows.Select(r => string.Join(',', r.Columns)));
        Assert.Equal(Text(Rows(new SyntheticOptions(), 3000)), Text(Rows(new SyntheticOptions { IntentDuration = "2h" }, 3000)));

        // The true CTR of an impression in the category the user last clicked, against the others' (a user's taste alone
        // makes that ratio above 1; an intent makes it larger).
        double Ratio(SyntheticOptions o)
        {
            var last = new Dictionary<string, string>();
            double inSum = 0, outSum = 0;
            long inCount = 0, outCount = 0;
            foreach (var r in new SyntheticStream(o).Read(new BadRows(BadRowPolicy.Fail)).Take(150_000)) // streamed, not held
            {
                var user = r.Columns[Col("user_id")];
                var category = r.Columns[Col("category")];
                var ctr = double.Parse(r.Columns[Col("true_ctr")], CultureInfo.InvariantCulture);
                if (last.TryGetValue(user, out var c) && c == category) { inSum += ctr; inCount++; }
                else { outSum += ctr; outCount++; }
                if (r.Columns[Col("click")] == "1") last[user] = category;
            }
            return inSum / inCount / (outSum / outCount);
        }
        var without = Ratio(new SyntheticOptions());
        var with = Ratio(new SyntheticOptions { IntentBoost = 4, IntentDuration = "6h" });
        Assert.True(with > without * 1.1, $"last-clicked category's CTR over the others': {without:F2} without intents, {with:F2} with");
        Assert.Throws<SchemaException>(() => new SyntheticStream(new SyntheticOptions { IntentDuration = "0m" }));
    }

    [Fact]
    public void Rows_are_in_event_time_order_with_true_probabilities_and_delayed_conversions()
    {
        var rows = Rows(new SyntheticOptions(), 50_000);
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.Time <= p.Second.Time));
        var clicks = rows.Where(r => r.Columns[Col("click")] == "1").ToList();
        var conversions = clicks.Where(r => r.Columns[Col("conversion")] == "1").ToList();
        Assert.InRange(clicks.Count / 50_000.0, 0.04, 0.2);
        Assert.NotEmpty(conversions);
        Assert.All(rows, r => Assert.InRange(double.Parse(r.Columns[Col("true_ctr")], CultureInfo.InvariantCulture), 0, 1));
        Assert.All(conversions, r => Assert.True(long.Parse(r.Columns[Col("conversion_time")], CultureInfo.InvariantCulture) > long.Parse(r.Columns[Col("time")], CultureInfo.InvariantCulture)));
        Assert.All(rows.Where(r => r.Columns[Col("conversion")] == "0"), r => Assert.Equal("", r.Columns[Col("conversion_time")]));
    }

    [Fact]
    public void New_items_keep_arriving()
    {
        var rows = Rows(new SyntheticOptions(), 120_000);
        var start = rows[0].Time;
        var firstHours = rows.TakeWhile(r => r.Time < start + TimeSpan.TicksPerHour * 2).Select(r => r.Columns[Col("item_id")]).ToHashSet();
        var lastHour = rows.Where(r => r.Time > rows[^1].Time - TimeSpan.TicksPerHour).Select(r => r.Columns[Col("item_id")]).ToHashSet();
        var fresh = lastHour.Count(i => int.Parse(i[1..], CultureInfo.InvariantCulture) >= 3000); // born after the initial 3000
        Assert.True(fresh > 50, $"only {fresh} items born during the stream were shown in its last hour");
        Assert.True(lastHour.Except(firstHours).Count() > 100);
    }

    [Fact]
    public void The_promotion_window_shifts_click_and_conversion_rates()
    {
        var o = new SyntheticOptions { PromotionStart = "2h", PromotionDuration = "2h", PromotedShare = 0.5, PromotionCtrBoost = 1.5, PromotionCvrBoost = 1.5 };
        var stream = new SyntheticStream(o);
        var rows = stream.Read(new BadRows(BadRowPolicy.Fail)).TakeWhile(r => r.Time < stream.PromotionEndTicks + TimeSpan.TicksPerHour * 2).ToList();
        double MeanCtr(IEnumerable<RawRow> rs) => rs.Average(r => double.Parse(r.Columns[Col("true_ctr")], CultureInfo.InvariantCulture));
        var inside = rows.Where(r => r.Time >= stream.PromotionStartTicks && r.Time < stream.PromotionEndTicks).ToList();
        var outside = rows.Where(r => r.Time < stream.PromotionStartTicks || r.Time >= stream.PromotionEndTicks).ToList();
        // Same categories inside and outside; the promoted ones click more inside the window.
        var lift = inside.GroupBy(r => r.Columns[Col("category")]).Select(g =>
        {
            var o2 = outside.Where(r => r.Columns[Col("category")] == g.Key).ToList();
            return o2.Count == 0 ? 0 : MeanCtr(g) / MeanCtr(o2);
        }).ToList();
        Assert.Contains(lift, l => l > 2);   // promoted categories
        Assert.Contains(lift, l => l is > 0.5 and < 1.5); // the others
    }
}
