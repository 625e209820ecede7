using Freshet.Model.Metrics;

namespace Freshet.Model.Synthetic;

/// <summary>
/// How much of the oracle's AUC can be learned online from a given number of synthetic samples. A model
/// sees only ids and labels; the oracle knows every hidden effect. Between them sits this learner: it is
/// <b>told</b> every effect the simulator shares across users and items (bias, category, device, item
/// aging, promotion, price, and the latent vectors of categories and items), and learns only what is
/// each user's and each item's own (a user's bias and 4-d taste, an item's click and conversion effects),
/// as Gaussian posteriors under the simulator's true priors, updated by an online Laplace step after
/// every sample, seeing each conversion the moment its click is scored. When the stream has intents
/// (<see cref="SyntheticOptions.IntentBoost"/>), it is told their boost and mean duration and follows each user's
/// intent with the exact Bayes filter over the categories (switching at the true rate, weighing each label by its
/// likelihood under each intent), scoring the mixture. It is better informed and
/// updates sooner than any model on the stream can, so its AUC is an optimistic ceiling for a model's.
/// </summary>
public static class SyntheticCeiling
{
    private const int Taste = 4;
    private const int Dim = Taste + 1; // the user's bias, then the taste

    /// <summary>Runs the informed learner on the first <paramref name="samples"/> samples of the stream, impressions and clicks counted as the trainer counts them.</summary>
    public static SyntheticCeilingResult Run(SyntheticOptions options, long samples, CancellationToken cancellationToken = default) =>
        Run(options, samples, followIntents: true, cancellationToken);

    /// <summary>As <see cref="Run(SyntheticOptions, long, CancellationToken)"/>; <paramref name="followIntents"/> false: the learner is not told of intents (for tests: what the filter adds).</summary>
    internal static SyntheticCeilingResult Run(SyntheticOptions options, long samples, bool followIntents, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        if (options.LatentDim != Taste)
        {
            throw new ArgumentException($"the informed learner models a {Taste}-d taste; source.synthetic.latentDim is {options.LatentDim}");
        }
        var users = new UserPosterior[options.Users];
        var intents = options.IntentBoost == 0 || !followIntents ? null : new IntentFilter(options.Users, options.Categories, options.IntentBoost,
            Schema.Durations.Parse(options.IntentDuration, "source.synthetic.intentDuration"));
        var itemCtr = new List<Scalar>();
        var itemCvr = new List<Scalar>();
        var ctr = new Scores();
        var cvr = new Scores();
        var x = new double[Dim];
        var cvrX = new double[Dim];
        cvrX[0] = SyntheticStream.UserCvrWeight;
        long taken = 0;
        foreach (var (_, t) in new SyntheticStream(options).Generate(cancellationToken))
        {
            // Counted as the trainer counts them: an impression is a CTR sample, its click (if any) a CVR sample after it.
            if (taken++ >= samples) break;
            var user = users[t.User] ??= new UserPosterior();
            while (itemCtr.Count <= t.Item)
            {
                itemCtr.Add(Scalar.Prior(SyntheticStream.ItemBiasScale));
                itemCvr.Add(Scalar.Prior(SyntheticStream.ItemCvrScale));
            }
            x[0] = 1;
            for (var k = 0; k < Taste; k++) x[k + 1] = t.CategoryLatent[k] + SyntheticStream.ItemTasteWeight * t.ItemLatent[k];
            itemCtr[t.Item] = Step(user, x, itemCtr[t.Item], t.CtrShared, t.TrueCtr, t.Click, ctr, intents, t);
            if (t.Click && taken++ < samples)
            {
                itemCvr[t.Item] = Step(user, cvrX, itemCvr[t.Item], t.CvrShared, t.TrueCvr, t.Conversion, cvr);
            }
        }
        return new SyntheticCeilingResult(ctr.Count, cvr.Count, ctr.ModelAuc(), ctr.OracleAuc(), cvr.ModelAuc(), cvr.OracleAuc());
    }

    /// <summary>Scores one sample before learning from it, then updates the user's and the item's posteriors; returns the item's.</summary>
    private static Scalar Step(UserPosterior user, double[] x, Scalar item, double shared, double truth, bool label, Scores scores,
        IntentFilter? intents = null, SyntheticTruth t = default)
    {
        var logit = shared + user.Mean(x) + item.Mean;
        var p = intents is null ? Sigmoid(logit) : intents.Score(t.User, t.Category, t.Time, logit, label);
        scores.Add(intents is null ? logit : Math.Log(p / (1 - p)), truth, label);
        var y = label ? 1.0 : 0.0;
        user.Update(x, p, y);
        return item.Update(p, y);
    }

    /// <summary>Each user's belief over which category the user is after, switching at the told rate and weighed by each label.</summary>
    private sealed class IntentFilter(int users, int categories, double boost, TimeSpan duration)
    {
        private readonly double[]?[] _belief = new double[]?[users];
        private readonly long[] _last = new long[users];

        /// <summary>The click probability of an impression of category <paramref name="category"/> before its label, then the belief after it.</summary>
        public double Score(int user, int category, long time, double logit, bool click)
        {
            var belief = _belief[user];
            if (belief is null)
            {
                belief = _belief[user] = new double[categories];
                Array.Fill(belief, 1.0 / categories);
            }
            else
            {
                var stay = Math.Exp(-Math.Max(0, time - _last[user]) / (double)duration.Ticks);
                for (var c = 0; c < categories; c++) belief[c] = stay * belief[c] + (1 - stay) / categories;
            }
            _last[user] = time;
            var boosted = Sigmoid(logit + boost);
            var plain = Sigmoid(logit);
            var p = belief[category] * boosted + (1 - belief[category]) * plain;
            // Bayes: the intent that is this category explains the label with the boosted rate, every other with the plain one.
            var ratio = click ? boosted / plain : (1 - boosted) / (1 - plain);
            var total = 1 + belief[category] * (ratio - 1);
            for (var c = 0; c < categories; c++) belief[c] /= total;
            belief[category] *= ratio;
            return Math.Clamp(p, 1e-9, 1 - 1e-9);
        }
    }

    /// <summary>One task's progressive scores, the oracle's, and the labels.</summary>
    private sealed class Scores
    {
        private readonly List<float> _model = [];
        private readonly List<float> _oracle = [];
        private readonly List<float> _labels = [];

        public long Count => _labels.Count;

        public void Add(double logit, double truth, bool label)
        {
            _model.Add((float)logit);
            _oracle.Add((float)truth);
            _labels.Add(label ? 1 : 0);
        }

        public double ModelAuc() => Auc.Compute(_model.ToArray(), _labels.ToArray());

        public double OracleAuc() => Auc.Compute(_oracle.ToArray(), _labels.ToArray());
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>A Gaussian posterior over one effect: its mean and precision.</summary>
    private readonly record struct Scalar(double Mean, double Precision)
    {
        public static Scalar Prior(double sd) => new(0, 1 / (sd * sd));

        /// <summary>One Laplace step on a logistic likelihood with prediction <paramref name="p"/> and label <paramref name="y"/>.</summary>
        public Scalar Update(double p, double y)
        {
            var precision = Precision + p * (1 - p);
            return new Scalar(Mean + (y - p) / precision, precision);
        }
    }

    /// <summary>A user's bias and taste: a Gaussian with full covariance, updated by rank-one Laplace steps.</summary>
    private sealed class UserPosterior
    {
        private readonly double[] _mean = new double[Dim];
        private readonly double[] _cov = new double[Dim * Dim];
        private readonly double[] _cx = new double[Dim];

        public UserPosterior()
        {
            _cov[0] = SyntheticStream.UserBiasScale * SyntheticStream.UserBiasScale;
            for (var k = 1; k < Dim; k++) _cov[k * Dim + k] = SyntheticStream.TasteScale * SyntheticStream.TasteScale;
        }

        public double Mean(double[] x)
        {
            var s = 0.0;
            for (var k = 0; k < Dim; k++) s += _mean[k] * x[k];
            return s;
        }

        /// <summary>Sherman-Morrison on the precision gaining w x x^T, then a Newton step on the mean.</summary>
        public void Update(double[] x, double p, double y)
        {
            var w = p * (1 - p);
            var xcx = 0.0;
            for (var a = 0; a < Dim; a++)
            {
                var s = 0.0;
                for (var b = 0; b < Dim; b++) s += _cov[a * Dim + b] * x[b];
                _cx[a] = s;
                xcx += x[a] * s;
            }
            var f = w / (1 + w * xcx);
            for (var a = 0; a < Dim; a++)
            {
                for (var b = 0; b < Dim; b++) _cov[a * Dim + b] -= f * _cx[a] * _cx[b];
            }
            // The new covariance times x is the old one's scaled by 1 / (1 + w x^T C x).
            var g = (y - p) / (1 + w * xcx);
            for (var a = 0; a < Dim; a++) _mean[a] += g * _cx[a];
        }
    }
}
