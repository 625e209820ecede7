using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;

namespace Freshet.Model.Tests;

public class ReaderTests
{
    private const string Header = "ts,user,item,category,price,clicked";

    [Fact]
    public void Rows_are_replayed_in_event_time_order_whatever_the_file_order()
    {
        using var dir = new TempFolder();
        var file = dir.File("log.csv", string.Join('\n', Header, "30,u1,i1,c1,5,0", "10,u2,i2,c1,5,1", "20,u3,i3,c2,5,0", "10,u4,i4,c2,5,0"));
        var reader = SampleReader.Open(Schemas.Parse(Schemas.ClickCsv), file);
        var samples = reader.Read().ToList();
        Assert.Equal([10L, 10, 20, 30], samples.Select(s => (s.Time - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond));
        // Equal times keep file order (line 3 before line 5).
        Assert.Equal(IdHasher.Hash("u2"), samples[0].Ids[0]);
        Assert.Equal(IdHasher.Hash("u4"), samples[1].Ids[0]);
        Assert.Equal([0f, 0, 0, 1], samples.Select(s => s.Label).OrderBy(x => x));
        Assert.Equal((float)Math.Log(6), samples[0].Numerics[0], 5);
    }

    [Fact]
    public void Sorting_in_spilled_chunks_gives_the_same_order_as_in_memory()
    {
        using var dir = new TempFolder();
        var rng = new Random(3);
        var lines = Enumerable.Range(0, 2000).Select(i => $"{rng.Next(500)},u{i},i{i % 37},c{i % 5},{i % 13},{i % 2}");
        var file = dir.File("log.csv", Header + "\n" + string.Join('\n', lines));
        var schema = Schemas.Parse(Schemas.ClickCsv);
        var inMemory = SampleReader.Open(schema, file).Read().Select(s => (s.Time, s.Ids[0])).ToList();
        var before = Directory.GetFiles(Path.GetTempPath(), "freshet-sort-*").Length;
        var spilled = SampleReader.Open(schema, file, sortChunkLines: 150).Read().Select(s => (s.Time, s.Ids[0])).ToList();
        Assert.Equal(2000, spilled.Count);
        Assert.Equal(inMemory, spilled);
        Assert.True(spilled.Zip(spilled.Skip(1)).All(p => p.First.Time <= p.Second.Time));
        Assert.Equal(before, Directory.GetFiles(Path.GetTempPath(), "freshet-sort-*").Length);
    }

    private static string MalformedLog(TempFolder dir) => dir.File("log.csv", string.Join('\n',
        Header,
        "1,u1,i1,c1,5,1",          // line 2: good
        "2,u2,i2,c1,5",            // line 3: one column short
        "yesterday,u3,i3,c1,5,0",  // line 4: time
        "4,u4,i4,c1,cheap,0",      // line 5: number
        "5,u5,i5,c1,5,",           // line 6: empty label
        "6,u6,i6,c2,7,0"));        // line 7: good

    [Fact]
    public void Skip_policy_counts_bad_rows_per_reason_and_reports_file_and_line()
    {
        using var dir = new TempFolder();
        var file = MalformedLog(dir);
        var reader = SampleReader.Open(Schemas.Parse(Schemas.ClickCsv), file);
        var samples = reader.Read().ToList();
        Assert.Equal(2, samples.Count);
        Assert.Equal(4, reader.BadRows.Count);
        Assert.Equal(1, reader.BadRows.ByReason["columns"]);
        Assert.Equal(1, reader.BadRows.ByReason["time"]);
        Assert.Equal(1, reader.BadRows.ByReason["number"]);
        Assert.Equal(1, reader.BadRows.ByReason["label"]);
        var byLine = reader.BadRows.Examples.ToDictionary(e => e.Line);
        Assert.Equal([3L, 4, 5, 6], byLine.Keys.Order());
        Assert.All(reader.BadRows.Examples, e => Assert.Equal(file, e.File));
        Assert.Contains("expected 6 columns", byLine[3].Detail);
        Assert.Contains("'yesterday' is not a time in format 'unix-seconds'", byLine[4].Detail);
        Assert.Contains("field 'price' column 'price': 'cheap' is not a number", byLine[5].Detail);
        Assert.Contains("labels.click: column 'clicked' is empty", byLine[6].Detail);
        Assert.StartsWith($"{file}:5:", byLine[5].ToString());
    }

    [Fact]
    public void Fail_policy_stops_at_the_first_bad_row_with_file_line_and_reason()
    {
        using var dir = new TempFolder();
        var file = MalformedLog(dir);
        var reader = SampleReader.Open(Schemas.Parse(Schemas.ClickCsv), file, BadRowPolicy.Fail);
        var e = Assert.Throws<MalformedRowException>(() => reader.Read().ToList());
        Assert.Equal(file, e.File);
        Assert.Equal(3, e.Line);
        Assert.Equal("columns", e.Reason);
        Assert.StartsWith($"{file}:3: expected 6 columns", e.Message);
    }

    [Fact]
    public void Explode_lookup_bag_and_slate_size_follow_the_schema()
    {
        using var dir = new TempFolder();
        dir.File("behaviors.tsv", "7\tU1\t11/12/2019 2:14:46 PM\tN1 N2 N3\tN10-1 N11-0 N12-0\n8\tU2\t11/12/2019 1:00:00 PM\t\tN11-1\n9\tU3\t11/12/2019 3:00:00 PM\t\tN13\n");
        dir.File("news.tsv", "N10\tsports\tfootball\tt\ta\tu\t[]\t[]\nN11\tnews\tpolitics\tt\ta\tu\t[]\t[]\n");
        var schema = SchemaLoader.Load(TestData.Schema("mind.json"));
        var reader = SampleReader.Open(schema, dir.Path);
        var samples = reader.Read().ToList();
        // Row 8 (1 PM) first, then the three items of row 7; row 9's item has no label suffix.
        Assert.Equal(4, samples.Count);
        Assert.Equal(1, reader.BadRows.ByReason["explode"]);
        Assert.Equal(3, reader.BadRows.Examples.Single().Line);
        Assert.Contains("has no '-' label suffix", reader.BadRows.Examples.Single().Detail);
        var layout = reader.Layout;
        int Field(string name) => layout.IdFields.Select((s, i) => (s, i)).Single(x => x.s.Field.Name == name).i;
        var first = samples[0];
        Assert.Equal(IdHasher.Hash("U2"), first.Ids[Field("user")]);
        Assert.Equal(IdHasher.Hash("news"), first.Ids[Field("category")]);
        Assert.Empty(first.Bags[0]);
        Assert.Equal(1f, first.Label);
        var n10 = samples[1];
        Assert.Equal(IdHasher.Hash("N10"), n10.Ids[Field("news")]);
        Assert.Equal(IdHasher.Hash("sports"), n10.Ids[Field("category")]);
        Assert.Equal([IdHasher.Hash("N1"), IdHasher.Hash("N2"), IdHasher.Hash("N3")], n10.Bags[0]);
        Assert.Equal((float)Math.Log(4), n10.Numerics[0], 5); // slate of 3 items, log1p
        Assert.Equal([1f, 0, 0], samples.Skip(1).Select(s => s.Label));
        Assert.Equal(IdHasher.Hash(""), samples[3].Ids[Field("category")]); // N12 has no news.tsv row
        Assert.All(samples.Skip(1), s => Assert.Equal(samples[1].Group, s.Group));
    }

    [Fact]
    public void An_ids_field_through_a_lookup_column_reads_each_value_as_the_side_files_value_for_it()
    {
        using var dir = new TempFolder();
        dir.File("behaviors.tsv", "7\tU1\t11/12/2019 2:14:46 PM\tN10 N99 N11 N10\tN10-1\n");
        dir.File("news.tsv", "N10\tsports\tfootball\tt\ta\tu\t[]\t[]\nN11\tnews\t\tt\ta\tu\t[]\t[]\n");
        var json = File.ReadAllText(TestData.Schema("mind.json")).Replace(
            "\"fields\": [",
            "\"fields\": [ { \"name\": \"history_categories\", \"column\": \"history\", \"kind\": \"ids\", \"through\": \"news_category\", \"table\": \"category\", \"tier\": \"changing\", \"dim\": 8 }, { \"name\": \"history_subcategories\", \"column\": \"history\", \"kind\": \"ids\", \"through\": \"news_subcategory\", \"table\": \"subcategory\", \"tier\": \"changing\", \"dim\": 8 },");
        var reader = SampleReader.Open(SchemaLoader.Parse(json, "mind-through.json"), dir.Path);
        var sample = reader.Read().Single();
        int Bag(string name) => reader.Layout.BagFields.Select((b, i) => (b, i)).Single(x => x.b.Field.Name == name).i;
        // N99 is not in news.tsv and N11 has no subcategory: dropped, not read as an empty value.
        Assert.Equal([IdHasher.Hash("sports"), IdHasher.Hash("news"), IdHasher.Hash("sports")], sample.Bags[Bag("history_categories")]);
        Assert.Equal([IdHasher.Hash("football"), IdHasher.Hash("football")], sample.Bags[Bag("history_subcategories")]);
        // Mapped values share the candidate's category table: one embedding space for both.
        Assert.Equal(reader.Layout.IdFields.Single(f => f.Field.Name == "category").TableIndex, reader.Layout.BagFields[Bag("history_categories")].TableIndex);

        var wrong = json.Replace("\"through\": \"news_category\"", "\"through\": \"category\"");
        var e = Assert.Throws<SchemaException>(() => SampleReader.Open(SchemaLoader.Parse(wrong, "mind-through.json"), dir.Path));
        Assert.Contains("field 'history_categories' through: 'category' is not a column of any lookup", e.Message);
        var onId = Assert.Throws<SchemaException>(() => SchemaLoader.Parse(json.Replace("\"kind\": \"ids\", \"through\": \"news_category\"", "\"kind\": \"id\", \"through\": \"news_category\""), "x.json"));
        Assert.Contains("history_categories'.through", onId.Message);
    }

    [Fact]
    public void A_header_quirk_is_handled_by_renaming_in_the_schema()
    {
        using var dir = new TempFolder();
        dir.File("train_sample.csv", "..ip,app,device,os,channel,click_time,attributed_time,is_attributed\n87540,12,1,13,497,2017-11-07 09:30:38,,0\n224120,19,0,29,213,2017-11-08 02:22:13,2017-11-08 02:22:38,1\n");
        var reader = SampleReader.Open(SchemaLoader.Load(TestData.Schema("talkingdata.json")), dir.Path);
        var samples = reader.Read().ToList();
        Assert.Equal(2, samples.Count);
        Assert.All(samples, s => Assert.Equal(TaskKind.Cvr, s.Task));
        Assert.Equal(IdHasher.Hash("87540"), samples[0].Ids[0]);
        Assert.Equal(0, samples[0].ConversionTime);
        Assert.Equal(TimeSpan.FromSeconds(25).Ticks, samples[1].ConversionTime - samples[1].Time);
    }

    [Fact]
    public void A_column_the_schema_names_but_the_file_lacks_is_an_error_naming_both()
    {
        using var dir = new TempFolder();
        var file = dir.File("log.csv", "ts,user,item,category,cost,clicked\n1,u,i,c,2,0\n");
        var e = Assert.Throws<SchemaException>(() => SampleReader.Open(Schemas.Parse(Schemas.ClickCsv), file));
        Assert.Contains("field 'price' column: column 'price' is not in " + file, e.Message);
        Assert.Contains("cost", e.Message);
    }

    [RealDataFact]
    public void Mind_log_reads_through_its_schema_alone()
    {
        var reader = SampleReader.Open(SchemaLoader.Load(TestData.Schema("mind.json")), TestData.Mind);
        long n = 0, clicks = 0, last = long.MinValue;
        var groups = new HashSet<ulong>();
        foreach (var s in reader.Read())
        {
            n++;
            clicks += (long)s.Label;
            Assert.True(s.Time >= last);
            last = s.Time;
            groups.Add(s.Group!.Value);
        }
        Assert.Equal(189_359, n);
        Assert.Equal(7_542, clicks);
        Assert.Equal(5_000, groups.Count);
        Assert.Equal(0, reader.BadRows.Count);
    }

    [RealDataFact]
    public void TalkingData_log_reads_through_its_schema_alone()
    {
        var reader = SampleReader.Open(SchemaLoader.Load(TestData.Schema("talkingdata.json")), TestData.TalkingData);
        var samples = reader.Read().ToList();
        Assert.Equal(100_000, samples.Count);
        Assert.Equal(227, samples.Count(s => s.Label > 0));
        Assert.All(samples.Where(s => s.Label > 0), s => Assert.InRange(s.ConversionTime - s.Time, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromHours(13).Ticks));
        Assert.Equal(new DateTime(2017, 11, 6, 16, 0, 0, DateTimeKind.Utc), new DateTime(samples[0].Time, DateTimeKind.Utc).AddTicks(-(samples[0].Time % TimeSpan.TicksPerHour)));
        Assert.Equal(0, reader.BadRows.Count);
    }
}
