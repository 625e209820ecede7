using System.Globalization;
using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Model.Synthetic;

/// <summary>
/// A deterministic click log from a hidden latent model, for the demo and for tests. Users and items
/// are Zipf-distributed; new items keep arriving and every item's popularity decays with age; in a
/// promotion window some categories are boosted for clicks and conversions. Each row is an
/// impression with its true CTR and CVR, a click label, and for clicks a conversion label and the
/// time the conversion happened. The rows have the columns in <see cref="Columns"/>.
/// </summary>
public sealed class SyntheticStream : IRowSource
{
    public static readonly IReadOnlyList<string> Columns =
        ["time", "user_id", "item_id", "category", "device", "price", "click", "conversion", "conversion_time", "true_ctr", "true_cvr"];

    private const double CtrBias = -2.6;
    private const double CvrBias = -2.2;
    private const double AgingPerHalfLife = 0.3;
    internal const double TasteScale = 0.42;
    internal const double ItemBiasScale = 0.7;
    internal const double UserBiasScale = 0.5;
    internal const double ItemCvrScale = 0.6;
    internal const double ItemTasteWeight = 0.6;
    internal const double UserCvrWeight = 0.5;
    private readonly SyntheticOptions _o;
    private readonly long _start;
    private readonly TimeSpan _halfLife;
    private readonly long _promotionStart;
    private readonly long _promotionEnd;
    private readonly TimeSpan _delayMedian;
    private readonly TimeSpan _intentDuration;

    public SyntheticStream(SyntheticOptions options)
    {
        _o = options;
        if (!DateTimeOffset.TryParse(options.Start, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start))
        {
            throw new SchemaException($"source.synthetic.start: '{options.Start}' is not an ISO 8601 time");
        }
        _start = start.UtcTicks;
        _halfLife = Durations.Parse(options.ItemHalfLife, "source.synthetic.itemHalfLife");
        _promotionStart = _start + Durations.Parse(options.PromotionStart, "source.synthetic.promotionStart").Ticks;
        _promotionEnd = _promotionStart + Durations.Parse(options.PromotionDuration, "source.synthetic.promotionDuration").Ticks;
        _delayMedian = Durations.Parse(options.ConversionDelayMedian, "source.synthetic.conversionDelayMedian");
        _intentDuration = Durations.Parse(options.IntentDuration, "source.synthetic.intentDuration");
        if (_intentDuration <= TimeSpan.Zero) throw new SchemaException("source.synthetic.intentDuration: must be positive (e.g. 1h)");
        if (!double.IsFinite(options.IntentBoost) || Math.Abs(options.IntentBoost) > 10) throw new SchemaException($"source.synthetic.intentBoost: {options.IntentBoost} is out of range; use -10..10 (0: no intents)");
        if (options.Users < 1 || options.InitialItems < 1 || options.Categories < 1 || options.Devices < 1 || options.LatentDim < 1)
        {
            throw new SchemaException("source.synthetic: users, initialItems, categories, devices and latentDim must be at least 1");
        }
        if (options.ImpressionsPerHour <= 0 || options.NewItemsPerHour < 0 || options.PromotedShare is < 0 or > 1)
        {
            throw new SchemaException("source.synthetic: impressionsPerHour must be positive, newItemsPerHour not negative, promotedShare in [0, 1]");
        }
    }

    IReadOnlyList<string> IRowSource.ColumnNames => Columns;

    public string Description => $"synthetic(seed={_o.Seed})";

    public string? Folder => null;

    public long PromotionStartTicks => _promotionStart;

    public long PromotionEndTicks => _promotionEnd;

    public long StartTicks => _start;

    public IEnumerable<RawRow> Read(BadRows bad, CancellationToken cancellationToken = default) =>
        Generate(cancellationToken).Select(g => g.Row);

    /// <summary>The rows with what made them: the hidden effects behind each row's true CTR and CVR.</summary>
    internal IEnumerable<(RawRow Row, SyntheticTruth Truth)> Generate(CancellationToken cancellationToken = default)
    {
        var world = new World(_o, _start);
        var rng = new Random(_o.Seed ^ 0x5EED);
        // Intents draw from their own generator: a stream without them is the same stream it was before they existed.
        var intents = _o.IntentBoost == 0 ? null : new Intents(_o.Users, _o.Categories, _intentDuration, new Random(_o.Seed ^ 0x1E7E));
        var t = (double)_start;
        var ticksPerImpression = TimeSpan.TicksPerHour / _o.ImpressionsPerHour;
        var nextRefresh = _start;
        var refreshEvery = TimeSpan.TicksPerHour / 4;
        var newItemsDebt = 0.0;
        long line = 0;
        var inv = CultureInfo.InvariantCulture;
        while (true)
        {
            t += -Math.Log(1 - rng.NextDouble()) * ticksPerImpression;
            var now = (long)t;
            while (now >= nextRefresh)
            {
                newItemsDebt += _o.NewItemsPerHour / 4;
                while (newItemsDebt >= 1)
                {
                    world.AddItem(nextRefresh);
                    newItemsDebt -= 1;
                }
                world.RefreshItemWeights(nextRefresh, _halfLife);
                nextRefresh += refreshEvery;
            }
            if ((++line & 0x3FFF) == 0) cancellationToken.ThrowIfCancellationRequested();

            var u = world.SampleUser(rng);
            var i = world.SampleItem(rng);
            var c = world.ItemCategory[i];
            var d = rng.NextDouble() < 0.8 ? world.UserDevice[u] : rng.Next(_o.Devices);
            var promoted = now >= _promotionStart && now < _promotionEnd && world.Promoted[c];
            // Items lose appeal as they age (news goes stale): an item's CTR drifts down over its life.
            var ageInHalfLives = Math.Min(4.0, world.AgeOf(i, now) / (double)_halfLife.Ticks);
            // Shared effects (the same for every user and item) apart from each user's and item's own.
            var ctrShared = CtrBias + world.CategoryCtr[c] + world.DeviceCtr[d] - AgingPerHalfLife * ageInHalfLives
                + (promoted ? _o.PromotionCtrBoost : 0);
            var ctrLogit = ctrShared + world.UserBias[u] + world.ItemBias[i]
                + Dot(world.UserLatent[u], world.CategoryLatent[c]) + ItemTasteWeight * Dot(world.UserLatent[u], world.ItemLatent[i]);
            if (intents is not null && intents.Of(u, now) == c) ctrLogit += _o.IntentBoost;
            var cvrShared = CvrBias + world.CategoryCvr[c] - 0.4 * (Math.Log(world.ItemPrice[i]) - 3.0) + (promoted ? _o.PromotionCvrBoost : 0);
            var cvrLogit = cvrShared + UserCvrWeight * world.UserBias[u] + world.ItemCvr[i];
            var ctr = Sigmoid(ctrLogit);
            var cvr = Sigmoid(cvrLogit);
            var click = rng.NextDouble() < ctr;
            var conversion = click && rng.NextDouble() < cvr;
            var conversionTime = "";
            if (conversion)
            {
                var delay = _delayMedian.Ticks * Math.Exp(1.2 * Normal(rng));
                conversionTime = ToMillis(now + (long)delay).ToString(inv);
            }
            var row = new RawRow(Description, line, now,
            [
                ToMillis(now).ToString(inv),
                "u" + world.UserId[u].ToString(inv),
                "i" + i.ToString(inv),
                "c" + c.ToString(inv),
                "d" + d.ToString(inv),
                world.ItemPrice[i].ToString("0.00", inv),
                click ? "1" : "0",
                conversion ? "1" : "0",
                conversionTime,
                ctr.ToString("R", inv),
                cvr.ToString("R", inv),
            ]);
            yield return (row, new SyntheticTruth(u, i, c, now, ctrShared, cvrShared, world.CategoryLatent[c], world.ItemLatent[i], ctr, cvr, click, conversion));
        }
    }

    private static long ToMillis(long ticks) => (ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }

    internal static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>
    /// Each user's current intent, drawn when first needed and again once it has held its exponential time: the state at
    /// any impression is that of a chain that jumps at rate 1 / duration to a uniform category.
    /// </summary>
    private sealed class Intents(int users, int categories, TimeSpan duration, Random rng)
    {
        private readonly int[] _category = new int[users];
        private readonly long[] _until = new long[users];

        public int Of(int user, long now)
        {
            if (now >= _until[user])
            {
                _category[user] = rng.Next(categories);
                _until[user] = now + (long)(-Math.Log(1 - rng.NextDouble()) * duration.Ticks);
            }
            return _category[user];
        }
    }

    /// <summary>The hidden parameters: who the users and items are, and what drives clicks and conversions.</summary>
    private sealed class World
    {
        private readonly SyntheticOptions _o;
        private readonly Random _rng;
        private readonly double[] _userCdf;
        private readonly List<double> _itemBaseWeight = [];
        private readonly List<long> _itemBirth = [];
        private double[] _itemCdf = [];
        private readonly double[] _categoryCdf;

        public World(SyntheticOptions o, long start)
        {
            _o = o;
            _rng = new Random(o.Seed);
            var k = o.LatentDim;
            // Per-user tastes are real but weaker than item and category effects: with tens of
            // impressions per user, a log carries little evidence of them.
            var scale = TasteScale;
            UserId = Permutation(o.Users);
            UserBias = Gaussians(o.Users, UserBiasScale);
            UserLatent = [.. Enumerable.Range(0, o.Users).Select(_ => Gaussians(k, scale))];
            UserDevice = [.. Enumerable.Range(0, o.Users).Select(_ => _rng.Next(o.Devices))];
            _userCdf = ZipfCdf(o.Users, o.UserZipf);
            CategoryCtr = Gaussians(o.Categories, 0.5);
            CategoryCvr = Gaussians(o.Categories, 0.5);
            CategoryLatent = [.. Enumerable.Range(0, o.Categories).Select(_ => Gaussians(k, scale))];
            _categoryCdf = ZipfCdf(o.Categories, 0.8);
            var promotedCount = (int)Math.Round(o.Categories * o.PromotedShare);
            var order = Permutation(o.Categories);
            Promoted = new bool[o.Categories];
            for (var c = 0; c < promotedCount; c++) Promoted[order[c]] = true;
            DeviceCtr = Gaussians(o.Devices, 0.3);
            // Items already on the site when the log starts were born over the three days before it.
            for (var i = 0; i < o.InitialItems; i++)
            {
                AddItem(start - (long)(_rng.NextDouble() * 3 * TimeSpan.TicksPerDay));
            }
        }

        public int[] UserId { get; }

        public double[] UserBias { get; }

        public double[][] UserLatent { get; }

        public int[] UserDevice { get; }

        public double[] CategoryCtr { get; }

        public double[] CategoryCvr { get; }

        public double[][] CategoryLatent { get; }

        public bool[] Promoted { get; }

        public double[] DeviceCtr { get; }

        public List<double> ItemBias { get; } = [];

        public List<double> ItemCvr { get; } = [];

        public List<double[]> ItemLatent { get; } = [];

        public List<int> ItemCategory { get; } = [];

        public List<double> ItemPrice { get; } = [];

        public void AddItem(long birth)
        {
            // Base popularity: the Zipf weight of a rank drawn uniformly, so a new item can be a hit.
            var rank = 1 + _rng.Next(_o.InitialItems);
            _itemBaseWeight.Add(Math.Pow(rank, -_o.ItemZipf));
            _itemBirth.Add(birth);
            ItemBias.Add(ItemBiasScale * Normal(_rng));
            ItemCvr.Add(ItemCvrScale * Normal(_rng));
            ItemLatent.Add(Gaussians(_o.LatentDim, TasteScale));
            ItemCategory.Add(Sample(_categoryCdf, _rng));
            ItemPrice.Add(Math.Exp(3.0 + 0.8 * Normal(_rng)));
        }

        public long AgeOf(int item, long now) => Math.Max(0, now - _itemBirth[item]);

        public void RefreshItemWeights(long now, TimeSpan halfLife)
        {
            var n = _itemBaseWeight.Count;
            if (_itemCdf.Length != n) _itemCdf = new double[n];
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                var age = Math.Max(0, now - _itemBirth[i]);
                var w = _itemBirth[i] > now ? 0 : _itemBaseWeight[i] * Math.Pow(0.5, age / (double)halfLife.Ticks);
                sum += w;
                _itemCdf[i] = sum;
            }
            for (var i = 0; i < n; i++) _itemCdf[i] /= sum;
        }

        public int SampleUser(Random rng) => Sample(_userCdf, rng);

        public int SampleItem(Random rng) => Sample(_itemCdf, rng);

        private static int Sample(double[] cdf, Random rng)
        {
            var x = rng.NextDouble();
            var i = Array.BinarySearch(cdf, x);
            i = i < 0 ? ~i : i;
            return Math.Min(i, cdf.Length - 1);
        }

        private static double[] ZipfCdf(int n, double s)
        {
            var cdf = new double[n];
            var sum = 0.0;
            for (var r = 0; r < n; r++)
            {
                sum += Math.Pow(r + 1, -s);
                cdf[r] = sum;
            }
            for (var r = 0; r < n; r++) cdf[r] /= sum;
            return cdf;
        }

        private int[] Permutation(int n)
        {
            var p = Enumerable.Range(0, n).ToArray();
            for (var i = n - 1; i > 0; i--)
            {
                var j = _rng.Next(i + 1);
                (p[i], p[j]) = (p[j], p[i]);
            }
            return p;
        }

        private double[] Gaussians(int n, double sd)
        {
            var v = new double[n];
            for (var i = 0; i < n; i++) v[i] = sd * Normal(_rng);
            return v;
        }
    }
}

/// <summary>
/// What made one synthetic row: the user's and item's indexes, the shared part of each logit (everything but
/// the user's and item's own effects), the latent vectors the user's taste meets, the true rates and the labels.
/// </summary>
internal readonly record struct SyntheticTruth(
    int User,
    int Item,
    int Category,
    long Time,
    double CtrShared,
    double CvrShared,
    double[] CategoryLatent,
    double[] ItemLatent,
    double TrueCtr,
    double TrueCvr,
    bool Click,
    bool Conversion);
