using System.Buffers.Binary;
using System.Security.Cryptography;
using Freshet.Feedback;
using Freshet.Model.Serving;

namespace Freshet.Serving;

/// <summary>
/// A scoring call's answer as it crosses the wire: the three probabilities of every row in one buffer, the prediction
/// ids' 16 bytes each in another, and what every row shares (the weights, their age, the model's joiner count) once.
/// The SDK turns it into <see cref="Prediction"/>s (<see cref="Predictions"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.ScoreAnswer")]
public sealed record ScoreAnswer
{
    /// <summary>Per row, CTR, CVR and CTCVR as little-endian floats (12 bytes a row).</summary>
    [Id(0)] public byte[] Scores { get; init; } = [];

    /// <summary>Per row, its prediction id's value (16 bytes a row, <see cref="Guid.TryWriteBytes(Span{byte})"/>).</summary>
    [Id(1)] public byte[] Ids { get; init; } = [];

    [Id(2)] public WeightsVersion Weights { get; init; }

    [Id(3)] public TimeSpan WeightsAge { get; init; }

    /// <summary>The model's joiners (<see cref="FeedbackSpec.Joiners"/>; 1 without a feedback loop): a row's joiner follows from its id.</summary>
    [Id(4)] public int Joiners { get; init; } = 1;

    /// <summary>New prediction ids for <paramref name="rows"/> rows: random (version 4) from one draw of the cryptographic generator.</summary>
    public static Guid[] NewIds(int rows)
    {
        var bytes = new byte[16 * rows];
        RandomNumberGenerator.Fill(bytes);
        var ids = new Guid[rows];
        for (var i = 0; i < rows; i++)
        {
            var b = bytes.AsSpan(16 * i, 16);
            b[7] = (byte)((b[7] & 0x0F) | 0x40); // version 4, as Guid.NewGuid makes them
            b[8] = (byte)((b[8] & 0x3F) | 0x80); // RFC 4122 variant
            ids[i] = new Guid(b);
        }
        return ids;
    }

    /// <summary>The answer of rows whose CTR, CVR and CTCVR are <paramref name="scores"/> (three a row, in that order).</summary>
    public static ScoreAnswer Of(ReadOnlySpan<float> scores, IReadOnlyList<PredictionId> ids, WeightsVersion weights, TimeSpan age, int joiners)
    {
        if (scores.Length != 3 * ids.Count) throw new ArgumentException($"{scores.Length} scores for {ids.Count} rows; three a row");
        var bytes = new byte[4 * scores.Length];
        for (var i = 0; i < scores.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), scores[i]);
        var idBytes = new byte[16 * ids.Count];
        for (var i = 0; i < ids.Count; i++) ids[i].Value.TryWriteBytes(idBytes.AsSpan(16 * i));
        return new ScoreAnswer { Scores = bytes, Ids = idBytes, Weights = weights, WeightsAge = age, Joiners = joiners };
    }

    /// <summary>The answer as one <see cref="Prediction"/> per row of a request of <paramref name="rows"/> rows to <paramref name="model"/>.</summary>
    /// <exception cref="InvalidDataException">The answer does not hold <paramref name="rows"/> rows.</exception>
    public Prediction[] Predictions(string model, int rows)
    {
        if (Scores is null || Ids is null || Scores.Length != 12L * rows || Ids.Length != 16L * rows || Joiners < 1 || Joiners > FeedbackSpec.MaxJoiners)
        {
            throw new InvalidDataException($"model '{model}': the answer to {rows} rows holds {Scores?.Length ?? 0} score bytes and {Ids?.Length ?? 0} id bytes (expected {12L * rows} and {16L * rows}) for {Joiners} joiners");
        }
        var predictions = new Prediction[rows];
        for (var i = 0; i < rows; i++)
        {
            var s = Scores.AsSpan(12 * i, 12);
            var value = new Guid(Ids.AsSpan(16 * i, 16));
            predictions[i] = new Prediction
            {
                Ctr = BinaryPrimitives.ReadSingleLittleEndian(s),
                Cvr = BinaryPrimitives.ReadSingleLittleEndian(s[4..]),
                Ctcvr = BinaryPrimitives.ReadSingleLittleEndian(s[8..]),
                Weights = Weights,
                WeightsAge = WeightsAge,
                Id = new PredictionId(model, PredictionId.JoinerOf(value, Joiners), value),
            };
        }
        return predictions;
    }
}
