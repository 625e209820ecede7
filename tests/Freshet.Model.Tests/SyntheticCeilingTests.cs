using Freshet.Model.Data;
using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Synthetic;

namespace Freshet.Model.Tests;

public class SyntheticCeilingTests
{
    [Fact]
    public void The_informed_learner_scores_the_trainers_samples()
    {
        // Its oracle AUCs equal those of the samples the trainer reads, so its AUCs compare with the model's.
        const int n = 40_000;
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(n).ToList();
        double OracleAuc(TaskKind task)
        {
            var s = samples.Where(x => x.Task == task).ToList();
            return Auc.Compute(s.Select(x => x.TrueProbability).ToArray(), s.Select(x => x.Label).ToArray());
        }

        var ceiling = SyntheticCeiling.Run(schema.Source.Synthetic!, n);

        Assert.Equal(samples.Count(s => s.Task == TaskKind.Ctr), ceiling.Samples);
        Assert.Equal(samples.Count(s => s.Task == TaskKind.Cvr), ceiling.Clicks);
        Assert.Equal(OracleAuc(TaskKind.Ctr), ceiling.CtrOracleAuc, 6);
        Assert.Equal(OracleAuc(TaskKind.Cvr), ceiling.CvrOracleAuc, 6);
    }

    [Fact]
    public void The_informed_learner_gains_with_evidence_and_stays_below_the_oracle()
    {
        var options = new SyntheticOptions();
        var early = SyntheticCeiling.Run(options, 20_000);
        var later = SyntheticCeiling.Run(options, 200_000);
        double Share(SyntheticCeilingResult r) => SyntheticCeilingResult.Fraction(r.CtrAuc, r.CtrOracleAuc);

        // Told every shared effect, it starts well above chance; each user's and item's own effects it learns as it goes.
        Assert.InRange(Share(early), 0.6, 0.97);
        Assert.True(Share(later) > Share(early) + 0.02, $"share of the oracle {Share(early):F3} at 20k samples, {Share(later):F3} at 200k");
        Assert.True(later.CtrAuc < later.CtrOracleAuc, $"CTR {later.CtrAuc:F4} against the oracle's {later.CtrOracleAuc:F4}");
        Assert.True(later.CvrAuc < later.CvrOracleAuc, $"CVR {later.CvrAuc:F4} against the oracle's {later.CvrOracleAuc:F4}");
        Assert.InRange(SyntheticCeilingResult.Fraction(later.CvrAuc, later.CvrOracleAuc), 0.5, 1);
    }

    [Fact]
    public void With_session_intents_the_informed_learner_follows_them_and_stays_below_the_oracle()
    {
        // Its filter over each user's intent is what lets it gain where the oracle gains: without the filter (a learner
        // blind to intents, as it was), the stream's intents would open a gap no told effect closes.
        var options = new SyntheticOptions { IntentBoost = 4, IntentDuration = "6h" };
        var told = SyntheticCeiling.Run(options, 150_000);
        var blind = SyntheticCeiling.Run(options, 150_000, followIntents: false);
        Assert.True(told.CtrAuc > blind.CtrAuc + 0.01, $"CTR AUC following intents {told.CtrAuc:F4}, blind to them {blind.CtrAuc:F4}");
        Assert.True(told.CtrAuc < told.CtrOracleAuc, $"CTR {told.CtrAuc:F4} against the oracle's {told.CtrOracleAuc:F4}");
        Assert.InRange(told.CvrAuc - blind.CvrAuc, -0.005, 0.005); // intents move clicks only (the user bias both tasks share moves a little)
    }

    [Fact]
    public void The_informed_learner_models_the_streams_taste_only()
    {
        var e = Assert.Throws<ArgumentException>(() => SyntheticCeiling.Run(new SyntheticOptions { LatentDim = 8 }, 1000));
        Assert.Contains("latentDim is 8", e.Message);
    }
}
