using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>Rate inputs are counted per event: each from the labels of samples strictly earlier in event time.</summary>
public class RateLeakageTests
{
    /// <summary>
    /// An interleaved CTR and CVR stream with ties (several samples at one time, like the items of one slate), few
    /// keys (so every key recurs within a batch and across the streams), and conversions that arrive later.
    /// </summary>
    private static List<Sample> Stream()
    {
        var rng = new Random(17);
        var samples = new List<Sample>();
        long time = TimeSpan.TicksPerDay;
        for (var i = 0; i < 3000; i++)
        {
            if (rng.Next(3) > 0) time += TimeSpan.TicksPerSecond * rng.Next(1, 4); // a third share the previous time
            var cvr = rng.Next(5) == 0;
            var label = rng.NextDouble() < (cvr ? 0.3 : 0.2) ? 1f : 0f;
            samples.Add(new Sample
            {
                Task = cvr ? TaskKind.Cvr : TaskKind.Ctr,
                Time = time,
                Label = label,
                Ids = [IdHasher.Hash("u" + rng.Next(30)), IdHasher.Hash("i" + rng.Next(20)), IdHasher.Hash("c" + rng.Next(4))],
                Bags = [[]],
                Numerics = [0f],
                ConversionTime = cvr && label > 0 ? time + TimeSpan.TicksPerMinute * rng.Next(1, 30) : 0,
            });
        }
        return samples;
    }

    /// <summary>Every sample's rate inputs (all rate columns), keyed by the sample's position in the stream.</summary>
    private static async Task<Dictionary<int, float[]>> RateInputsAsync(FeatureSchema schema, List<Sample> stream)
    {
        var layout = FeatureLayout.From(schema);
        var index = new Dictionary<Sample, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < stream.Count; i++) index[stream[i]] = i;
        var inputs = new Dictionary<int, float[]>();
        using var store = new InProcessParameterStore(schema);
        var options = new TrainerOptions
        {
            BatchSize = 64,
            CvrBatchSize = 16,
            Inspect = (batch, rows, _) =>
            {
                var all = rows.ToArray();
                for (var s = 0; s < batch.Count; s++)
                {
                    var start = s * layout.InputDim;
                    inputs[index[batch[s]]] = [.. layout.RateFields.SelectMany(r => all[(start + r.Offset)..(start + r.Offset + RateSlot.Width)])];
                }
            },
        };
        await new StreamingTrainer(schema, store, options).ReplayAsync(stream);
        Assert.Equal(stream.Count, inputs.Count);
        return inputs;
    }

    [Theory]
    [InlineData(TaskKind.Ctr)]
    [InlineData(TaskKind.Cvr)]
    public async Task Changing_the_label_of_sample_k_changes_no_rate_input_of_any_sample_before_its_label_arrived(TaskKind task)
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        Assert.NotEmpty(FeatureLayout.From(schema).RateFields);
        var stream = Stream();
        var before = await RateInputsAsync(schema, stream);

        // Sample k: a positive in the middle of the stream (for CVR, one whose conversion came later); its label flipped.
        var k = Enumerable.Range(stream.Count / 2, stream.Count / 2).First(i => stream[i].Task == task && stream[i].Label > 0 && (task == TaskKind.Ctr || stream[i].ConversionTime > stream[i].Time));
        var flipped = stream.ToList();
        var old = stream[k];
        flipped[k] = new Sample { Task = old.Task, Time = old.Time, Label = 0, Ids = old.Ids, Bags = old.Bags, Numerics = old.Numerics };
        var after = await RateInputsAsync(schema, flipped);

        // The label counts from when it arrived: the conversion's time, or the click's own time.
        var arrived = old.ConversionTime > old.Time ? old.ConversionTime : old.Time;
        var unchanged = 0;
        var changed = 0;
        for (var i = 0; i < stream.Count; i++)
        {
            if (stream[i].Time <= arrived)
            {
                Assert.True(before[i].SequenceEqual(after[i]), $"sample {i} at {stream[i].Time} (label of sample {k} arrived at {arrived}) saw the change");
                unchanged++;
            }
            else if (!before[i].SequenceEqual(after[i]))
            {
                changed++;
            }
        }
        Assert.True(unchanged > stream.Count / 2);
        Assert.True(changed > 0, "no later sample saw the label either: the test would pass on inputs that ignore labels");
    }
}
