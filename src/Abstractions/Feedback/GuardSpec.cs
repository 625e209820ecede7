
namespace Freshet.Feedback;

/// <summary>
/// The served-quality guard of a deployment with a feedback loop (docs/FEEDBACK.md). Serving keeps the last good
/// weights beside the ones it serves and scores a share of the calls with both (<see cref="ShadowShare"/>); once each
/// shadowed impression's click window has closed, its joiner adds the difference of the two answers' log-loss to the
/// sums of that pair of versions (served, shadow). Every <see cref="CheckEvery"/> the deployment judges the line since
/// the good weights, the version being served included, on the pairs those good weights shadowed, with a sequential
/// test (<c>MixtureSprt</c>, <c>ServedGuard</c> in the grains): worse by more than <see cref="Tolerance"/> at false-alarm
/// probability <see cref="FalseAlarm"/> however many checks look, serving goes back to the good weights and publishing
/// halts; at <see cref="MinPairs"/> pairs without that, the oldest of those versions becomes the good one.
/// </summary>
[GenerateSerializer, Immutable, Alias("freshet.guard-spec")]
public sealed record GuardSpec
{
    /// <summary>Share of scoring calls also scored with the last good weights (0 to 1; each such call costs a second score).</summary>
    [Id(0)] public double ShadowShare { get; init; } = 0.1;

    /// <summary>
    /// Paired rows (shadowed impressions whose click window has closed) after which a line that was not found worse
    /// becomes good; the sequential test is tuned to decide at this many, and may roll back from a quarter of it.
    /// </summary>
    [Id(1)] public int MinPairs { get; init; } = 2_000;

    /// <summary>
    /// How much worse than the good weights' mean log-loss, relative, the line may be (0.02: 2%): the test asks whether it
    /// is worse by more than this, so the small ups and downs of online updates never roll back.
    /// </summary>
    [Id(2)] public double Tolerance { get; init; } = 0.02;

    // Id 3 was Z, the threshold of a z-test repeated at every check with no correction for the repeated looks; retired
    // for FalseAlarm, which holds over every look.

    /// <summary>How often the deployment judges, on its clock.</summary>
    [Id(4)] public TimeSpan CheckEvery { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most the chance may be that a line no worse than the tolerance is rolled back, per good version it is judged
    /// against, however many checks look at it (0.001). A good version is replaced only after <see cref="MinPairs"/>
    /// pairs of its own, so false rollbacks are at most <c>FalseAlarm</c> per <see cref="MinPairs"/> shadowed rows, however
    /// often the guard checks.
    /// </summary>
    [Id(5)] public double FalseAlarm { get; init; } = 0.001;

    /// <summary>Every problem of the settings, each naming its field and the fix; empty when they are good.</summary>
    public IReadOnlyList<string> Problems() =>
    [
        .. new[]
        {
            ShadowShare is <= 0 or > 1 || double.IsNaN(ShadowShare) ? $"feedback.guard.shadowShare: {ShadowShare}; use a share above 0 and at most 1 (0.1 shadow-scores one call in ten)" : null,
            MinPairs < 30 ? $"feedback.guard.minPairs: {MinPairs}; use at least 30 (a paired z-test needs a sample; 2000 is usual)" : null,
            Tolerance is < 0 or > 10 || double.IsNaN(Tolerance) ? $"feedback.guard.tolerance: {Tolerance}; use 0 to 10 (0.02: roll back when 2% worse)" : null,
            FalseAlarm is <= 0 or > 0.2 || double.IsNaN(FalseAlarm) ? $"feedback.guard.falseAlarm: {FalseAlarm}; use above 0 and at most 0.2 (0.001: one false rollback at most per thousand good versions judged)" : null,
            CheckEvery <= TimeSpan.Zero ? $"feedback.guard.checkEvery: {CheckEvery}; must be positive (1m is usual)" : null,
        }.OfType<string>(),
    ];
}
