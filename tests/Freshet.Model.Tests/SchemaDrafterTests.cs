using System.Globalization;
using System.Text;
using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Schema.Drafting;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

/// <summary>Drafts of small generated logs: what is detected, what is refused and why, and that every draft loads and reads.</summary>
public class SchemaDrafterTests
{
    private static readonly DateTime Start = new(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// A click log: a time column, users (many), items (a few hundred), a category (5), a price, an hour
    /// column, a sequence number, a random row id, a constant, and the click.
    /// </summary>
    private static string ClickLog(string delimiter, bool header, Func<DateTime, string> time, int rows = 3000)
    {
        var rng = new Random(11);
        var ids = Enumerable.Range(0, rows).OrderBy(_ => rng.Next()).ToArray();
        var sb = new StringBuilder();
        if (header) sb.AppendLine(string.Join(delimiter, "event_time", "user", "item", "category", "price", "hour", "seq", "request", "source", "clicked"));
        for (var i = 0; i < rows; i++)
        {
            var t = Start.AddSeconds(rng.Next(0, 3 * 86_400));
            sb.AppendLine(string.Join(delimiter,
                time(t), $"u{rng.Next(2500)}", $"i{rng.Next(300)}", $"c{rng.Next(5)}",
                (Math.Exp(rng.NextDouble() * 8) - 1).ToString("F2", CultureInfo.InvariantCulture),
                t.Hour, i, $"r{ids[i]}", "web", rng.Next(10) == 0 ? 1 : 0));
        }
        return sb.ToString();
    }

    private static SchemaDraft Draft(TempFolder dir, string name, string contents, Func<DraftOptions, DraftOptions>? change = null)
    {
        var file = dir.File(name, contents);
        var options = new DraftOptions { Data = file };
        return SchemaDrafter.Draft(change is null ? options : change(options));
    }

    private static DraftField Field(SchemaDraft d, string name) => d.Fields.Single(f => f.Name == name);

    private static string Refused(SchemaDraft d, string column) => d.Refused.Single(r => r.Column == column).Why;

    [Fact]
    public void A_csv_with_a_header_gets_its_delimiter_time_label_and_fields_with_reasons()
    {
        using var dir = new TempFolder();
        var d = Draft(dir, "clicks.csv", ClickLog(";", header: true, t => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
        Assert.Equal(";", d.Delimiter);
        Assert.True(d.Header);
        Assert.Equal(3000, d.Rows);
        Assert.Equal("event_time", d.Time.Column);
        Assert.Equal("yyyy-MM-dd'T'HH:mm:ss'Z'", d.Time.Format);
        Assert.Equal(3000, d.Time.Parsed);

        var click = Assert.Single(d.Labels);
        Assert.Equal(("click", "clicked", "1"), (click.Task, click.Column, click.Rule.EqualsValue));
        Assert.Contains("guessed from its name", click.Why);

        // Tiers from cardinality: 2,500 users in 3,000 rows are frozen; 300 items (one per 10 rows) and 5 categories are changing.
        Assert.Equal((FieldKind.Id, Tier.Frozen, 16), (Field(d, "user").Kind, Field(d, "user").Tier, Field(d, "user").Dim));
        Assert.Equal((Tier.Changing, 8), (Field(d, "item").Tier!.Value, Field(d, "item").Dim!.Value));
        Assert.Equal((Tier.Changing, 4), (Field(d, "category").Tier!.Value, Field(d, "category").Dim!.Value));
        Assert.Contains("high-sparse ids, frozen tier", Field(d, "user").Why);
        var price = Field(d, "price");
        Assert.Equal((FieldKind.Numeric, NumericTransform.Log1p, "price:float"), (price.Kind, price.Transform!.Value, price.Column));

        // Refused, each with its reason.
        Assert.Contains("named like a time slot ('hour')", Refused(d, "hour"));
        Assert.Contains("increases with the row", Refused(d, "seq"));
        Assert.Contains("unique in each row", Refused(d, "request"));
        Assert.Contains("constant ('web'", Refused(d, "source"));
        Assert.Contains("the event time", Refused(d, "event_time"));
        Assert.Contains("the click label", Refused(d, "clicked"));
        Assert.Equal(["user", "item", "category", "price"], d.Fields.Select(f => f.Name));
        Assert.DoesNotContain("\"model\"", d.Json);

        // The draft loads and reads its own log.
        var samples = SampleReader.Open(SchemaLoader.Parse(d.Json), d.File).Read().ToList();
        Assert.Equal(3000, samples.Count);
        Assert.True(samples.Zip(samples.Skip(1)).All(p => p.First.Time <= p.Second.Time));
    }

    [Fact]
    public void A_tab_log_without_header_is_read_by_position_with_unix_times()
    {
        using var dir = new TempFolder();
        var unix = ClickLog("\t", header: false, t => new DateTimeOffset(t).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        var d = Draft(dir, "log.tsv", unix, o => o with { Labels = [LabelRequest.Parse("click=#9==1")] });
        Assert.Equal("\t", d.Delimiter);
        Assert.False(d.Header);
        Assert.Equal(("#0", "unix-seconds"), (d.Time.Column, d.Time.Format));
        Assert.Equal("#9", d.Labels.Single().Column);
        Assert.Equal("#1:token", Field(d, "col1").Column);
        // No names: the hour column is refused because it repeats the event time's hour; the sequence and the row id by their shape.
        Assert.Contains("the hour of day of the event time in 100% of rows: a time slot", Refused(d, "#5"));
        Assert.Contains("increases with the row", Refused(d, "#6"));
        Assert.Contains("unique in each row", Refused(d, "#7"));
        Assert.Equal(3000, SampleReader.Open(d.Schema, d.File).Read().Count());

        // Milliseconds are told from seconds by their range.
        var millis = Draft(dir, "ms.csv", "ts,user,clicked\n" + string.Join('\n', Enumerable.Range(0, 100).Select(i => $"{1_700_000_000_000L + i * 1000L},u{i % 7},{i % 2}")));
        Assert.Equal(("ts", "unix-millis"), (millis.Time.Column, millis.Time.Format));
    }

    [Fact]
    public void Columns_whose_names_contain_colons_are_drafted_and_read()
    {
        using var dir = new TempFolder();
        var sb = new StringBuilder("ts:utc,user:id,a:b:c,k:int,clicked\n");
        for (var i = 0; i < 200; i++) sb.Append(CultureInfo.InvariantCulture, $"2024-03-01 10:{i / 60:00}:{i % 60:00},u{i % 40},x{i % 3},{i % 7},{i % 2}\n");
        var d = Draft(dir, "colons.csv", sb.ToString());
        Assert.Equal("ts:utc", d.Time.Column);
        Assert.Equal("user:id:token", Field(d, "user_id").Column);
        Assert.Equal("a:b:c:token", Field(d, "a_b_c").Column);
        Assert.Equal("k:int:token", Field(d, "k_int").Column); // 7 distinct whole numbers: a category, in a column named 'k:int'
        var schema = SchemaLoader.Parse(d.Json);
        Assert.Equal("k:int", schema.Fields.Single(f => f.Name == "k_int").ColumnRef!.Name);
        var first = SampleReader.Open(schema, d.File).Read().First();
        Assert.Equal(IdHasher.Hash("u0"), first.Ids[0]);
    }

    [Fact]
    public void A_conversion_label_takes_its_time_column_as_the_delay_and_thresholds_map_to_at_least()
    {
        using var dir = new TempFolder();
        var rng = new Random(5);
        var sb = new StringBuilder("ip,app,click_time,attributed_time,is_attributed,rating,score\n");
        for (var i = 0; i < 2000; i++)
        {
            var t = Start.AddSeconds(rng.Next(86_400));
            var converted = rng.Next(20) == 0;
            sb.Append(CultureInfo.InvariantCulture, $"{rng.Next(3000)},{rng.Next(40)},{t:yyyy-MM-dd HH:mm:ss},{(converted ? t.AddMinutes(3).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "")},{(converted ? 1 : 0)},{rng.Next(1, 6)},{rng.NextDouble():F3}\n");
        }
        var file = dir.File("td.csv", sb.ToString());
        var d = SchemaDrafter.Draft(new DraftOptions { Data = file, Labels = [LabelRequest.Parse("conversion=is_attributed==1")] });
        var conversion = d.Labels.Single();
        Assert.Equal("attributed_time", conversion.Rule.DelayColumn);
        Assert.Contains("the conversion's time", Refused(d, "attributed_time"));
        Assert.Equal(Tier.Frozen, Field(d, "ip").Tier);
        var samples = SampleReader.Open(SchemaLoader.Parse(d.Json), file).Read().ToList();
        Assert.All(samples.Where(s => s.Label > 0), s => Assert.Equal(TimeSpan.FromMinutes(3).Ticks, s.ConversionTime - s.Time));

        // Thresholds: >= is atLeast; > on whole numbers is atLeast the next one; > on fractions is refused.
        var atLeast = SchemaDrafter.Draft(new DraftOptions { Data = file, Labels = [LabelRequest.Parse("click=rating>=4")] });
        Assert.Equal(4, atLeast.Labels.Single().Rule.AtLeast);
        Assert.Contains("named like a label ('is_attributed')", Refused(atLeast, "is_attributed")); // not a feature when it is not the label
        Assert.Contains("a date-time", Refused(atLeast, "attributed_time"));
        var above = SchemaDrafter.Draft(new DraftOptions { Data = file, Labels = [LabelRequest.Parse("click=rating>3"), LabelRequest.Parse("conversion=is_attributed==1")] });
        Assert.Equal(4, above.Labels.Single(l => l.Task == "click").Rule.AtLeast);
        Assert.Equal(above.Labels.Single(l => l.Task == "click").Positives, atLeast.Labels.Single().Positives);
        Assert.NotNull(SchemaLoader.Parse(above.Json).Labels.Conversion);
        var fraction = Assert.Throws<ArgumentException>(() => SchemaDrafter.Draft(new DraftOptions { Data = file, Labels = [LabelRequest.Parse("click=score>0.5")] }));
        Assert.Contains("use >= (labels.click.atLeast)", fraction.Message);
    }

    [Fact]
    public void A_list_of_labelled_items_is_exploded_with_its_group_and_a_history_bag_shares_the_item_table()
    {
        using var dir = new TempFolder();
        var rng = new Random(3);
        var sb = new StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            var shown = Enumerable.Range(0, rng.Next(2, 12)).Select(_ => $"N{rng.Next(2000)}-{(rng.Next(8) == 0 ? 1 : 0)}");
            var seen = Enumerable.Range(0, rng.Next(0, 6)).Select(_ => $"N{rng.Next(5000)}");
            sb.Append(CultureInfo.InvariantCulture, $"{100_000 + rng.Next(900_000) * 10 + i % 10}\tU{rng.Next(300)}\t{Start.AddMinutes(rng.Next(5000)):M/d/yyyy h:mm:ss tt}\t{string.Join(' ', seen)}\t{string.Join(' ', shown)}\n");
        }
        var d = Draft(dir, "behaviors.tsv", sb.ToString(), o => o with { Columns = ["impression_id", "user_id", "time", "history", "impressions"] });
        Assert.Equal("M/d/yyyy h:mm:ss tt", d.Time.Format);
        var explode = d.Schema.Source.Explode!;
        Assert.Equal(("impressions", "-", "item"), (explode.Column, explode.LabelSeparator, explode.ItemColumn));
        Assert.Equal("item_label", d.Labels.Single().Column);
        Assert.Equal("impression_id", d.Schema.Group);
        var history = Field(d, "history");
        Assert.Equal((FieldKind.Ids, "item"), (history.Kind, history.Table));
        Assert.Equal(FieldKind.Numeric, Field(d, "item_count").Kind);
        var samples = SampleReader.Open(d.Schema, d.File).Read().ToList();
        Assert.Equal(d.Labels.Single().Rows, samples.Count);
        Assert.All(samples, s => Assert.NotNull(s.Group));
    }

    [Fact]
    public void Another_date_time_column_is_refused_as_a_clock()
    {
        using var dir = new TempFolder();
        var sb = new StringBuilder("created,user,shown_at,clicked\n");
        for (var i = 0; i < 300; i++) sb.Append(CultureInfo.InvariantCulture, $"{Start.AddMinutes(i * 7 % 900):yyyy-MM-dd HH:mm:ss},u{i % 50},{Start.AddDays(i % 4):yyyy-MM-dd},{i % 3 / 2}\n");
        var d = Draft(dir, "two-clocks.csv", sb.ToString());
        Assert.Equal("created", d.Time.Column);
        Assert.Contains("a date-time (\"yyyy-MM-dd\")", Refused(d, "shown_at"));
    }

    [Fact]
    public void Without_a_time_column_the_draft_is_row_order_and_says_what_to_pass()
    {
        using var dir = new TempFolder();
        var d = Draft(dir, "criteo.tsv", string.Join('\n', Enumerable.Range(0, 300).Select(i => $"{i % 2}\t{i % 13}\t{(i * 7919) % 97:x8}")),
            o => o with { Labels = [LabelRequest.Parse("click=#0==1")] });
        Assert.Equal((null, TimeSpec.RowOrder), (d.Time.Column, d.Time.Format));
        Assert.Contains("pass --time COLUMN", d.Time.Why);
        Assert.Equal(300, SampleReader.Open(SchemaLoader.Parse(d.Json), d.File).Read().Count());
    }

    [Fact]
    public void Bad_input_is_refused_with_the_file_column_or_expression_named()
    {
        using var dir = new TempFolder();
        var missing = Path.Combine(dir.Path, "nope.csv");
        Assert.Contains($"--data '{missing}' does not exist", Assert.Throws<SchemaException>(() => SchemaDrafter.Draft(new DraftOptions { Data = missing })).Message);
        var empty = dir.File("empty.csv", "");
        Assert.Contains("is empty", Assert.Throws<SchemaException>(() => SchemaDrafter.Draft(new DraftOptions { Data = empty })).Message);
        Assert.Contains("is a folder", Assert.Throws<SchemaException>(() => SchemaDrafter.Draft(new DraftOptions { Data = dir.Path })).Message);

        var file = dir.File("log.csv", ClickLog(",", header: true, t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), rows: 200));
        var unknown = Assert.Throws<ArgumentException>(() => SchemaDrafter.Draft(new DraftOptions { Data = file, Labels = [LabelRequest.Parse("click=klicked==1")] }));
        Assert.Contains("--label 'click=klicked==1': column 'klicked' is not in " + file, unknown.Message);
        Assert.Contains("clicked", unknown.Message);
        Assert.Contains("--label 'click:clicked': give TASK=COLUMN==VALUE", Assert.Throws<FormatException>(() => LabelRequest.Parse("click:clicked")).Message);
        Assert.Contains("'purchase' is not a label", Assert.Throws<FormatException>(() => LabelRequest.Parse("purchase=x==1")).Message);
        Assert.Contains("'high' is not a number", Assert.Throws<FormatException>(() => LabelRequest.Parse("click=rating>=high")).Message);
        Assert.Contains("'user' holds text", Assert.Throws<ArgumentException>(() => SchemaDrafter.Draft(new DraftOptions { Data = file, Labels = [LabelRequest.Parse("click=user>=1")] })).Message);
        Assert.Contains("--time: column 'when'", Assert.Throws<ArgumentException>(() => SchemaDrafter.Draft(new DraftOptions { Data = file, Time = "when" })).Message);

        // No label given and none recognised: the columns with two values are listed.
        var unlabelled = dir.File("unlabelled.csv", "ts,user,flag\n" + string.Join('\n', Enumerable.Range(0, 100).Select(i => $"{1_700_000_000 + i},u{i % 9},{i % 2}")));
        var e = Assert.Throws<SchemaException>(() => SchemaDrafter.Draft(new DraftOptions { Data = unlabelled }));
        Assert.Contains("pass --label click=COLUMN==1", e.Message);
        Assert.Contains("flag (0/1)", e.Message);
    }

    [Fact]
    public void A_label_expression_splits_at_the_operator_that_leaves_a_plain_value()
    {
        Assert.Equal(new LabelRequest("click", "rating", ">=", "4"), LabelRequest.Parse("click=rating>=4"));
        Assert.Equal(new LabelRequest("conversion", "is_attributed", "==", "1"), LabelRequest.Parse("conversion=is_attributed==1"));
        Assert.Equal(new LabelRequest("click", "a:b", ">", "3"), LabelRequest.Parse("click=a:b>3"));
        Assert.Equal(new LabelRequest("click", "x>=y", "==", "yes"), LabelRequest.Parse("click=x>=y==yes"));
    }
}
