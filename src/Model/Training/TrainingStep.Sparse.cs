using System.Runtime.InteropServices;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using static TorchSharp.torch;

namespace Freshet.Model.Training;

/// <summary>The step's sparse side: the batch's ids collected and interned, rows gathered from the store, the rate inputs, gradients scattered back.</summary>
public sealed partial class TrainingStep
{
    private void Collect(IReadOnlyList<Sample> batch, bool train)
    {
        var n = batch.Count;
        long now = 0;
        for (var t = 0; t < _tables.Length; t++)
        {
            _tables[t].Clear();
            _tables[t].Train = train && Plan.Trains(_layout.Tables[t].Tier);
            _index[t].Clear();
        }
        var rateFields = _layout.RateFields;
        for (var r = 0; r < _rates.Length; r++)
        {
            _rates[r].Clear();
            _rates[r].Train = train && Plan.Trains(Tier.Changing);
            _rateIndex[r].Clear();
        }
        if (_rateSlots.Length < n * rateFields.Count) _rateSlots = new int[n * rateFields.Count];
        var idFields = _layout.IdFields;
        var bagFields = _layout.BagFields;
        var biasFields = _layout.BiasFields;
        if (_idSlots.Length < n * idFields.Count) _idSlots = new int[n * idFields.Count];
        if (_biasSlots.Length < n * biasFields.Count) _biasSlots = new int[n * biasFields.Count];
        if (_bagSlots.Length < n * bagFields.Count) _bagSlots = new int[n * bagFields.Count][];
        for (var s = 0; s < n; s++)
        {
            var sample = batch[s];
            now = Math.Max(now, sample.Time);
            for (var f = 0; f < idFields.Count; f++)
            {
                _idSlots[s * idFields.Count + f] = Intern(idFields[f].TableIndex, sample.Ids[f]);
            }
            for (var f = 0; f < bagFields.Count; f++)
            {
                // An attention bag keeps its last values, one per slot; the rest are neither read nor trained.
                var bag = sample.Bags[f].AsSpan();
                if (_layout.AttentionOf(f) is { } attention && bag.Length > attention.Length) bag = bag[^attention.Length..];
                var slots = _bagSlots[s * bagFields.Count + f];
                if (slots is null || slots.Length != bag.Length)
                {
                    slots = bag.Length == 0 ? [] : new int[bag.Length];
                    _bagSlots[s * bagFields.Count + f] = slots;
                }
                for (var k = 0; k < bag.Length; k++) slots[k] = Intern(bagFields[f].TableIndex, bag[k]);
            }
            for (var b = 0; b < biasFields.Count; b++)
            {
                _biasSlots[s * biasFields.Count + b] = Intern(biasFields[b].TableIndex, sample.Ids[biasFields[b].IdField]);
            }
            for (var r = 0; r < rateFields.Count; r++)
            {
                var id = sample.Ids[rateFields[r].IdField];
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_rateIndex[r], id, out var exists);
                if (!exists) slot = _rates[r].Add(id);
                _rateSlots[s * rateFields.Count + r] = slot;
            }
        }
        _rows.Now = now;
    }

    private int Intern(int table, ulong id)
    {
        var tb = _tables[table];
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_index[table], id, out var exists);
        if (!exists) slot = tb.Add(id);
        tb.Occurrences[slot]++;
        return slot;
    }

    /// <summary>Builds the input rows: each id field's row, each bag's mean row, each numeric value.</summary>
    private void Gather(IReadOnlyList<Sample> batch)
    {
        var n = batch.Count;
        var width = _layout.InputDim;
        if (_input.Length < n * width) _input = new float[n * width];
        var input = _input.AsSpan(0, n * width);
        input.Clear();
        var idFields = _layout.IdFields;
        var bagFields = _layout.BagFields;
        var numerics = _layout.NumericFields;
        for (var s = 0; s < n; s++)
        {
            var row = input.Slice(s * width, width);
            for (var f = 0; f < idFields.Count; f++)
            {
                var slot = idFields[f];
                var tb = _tables[slot.TableIndex];
                tb.Rows.AsSpan(_idSlots[s * idFields.Count + f] * tb.Dim, tb.Dim).CopyTo(row.Slice(slot.Offset, slot.Width));
            }
            for (var f = 0; f < bagFields.Count; f++)
            {
                var slot = bagFields[f];
                var tb = _tables[slot.TableIndex];
                var items = _bagSlots[s * bagFields.Count + f];
                if (items.Length == 0) continue;
                if (_layout.AttentionOf(f) is { } attention)
                {
                    // One slot per value kept (see Collect), most recent first, its mask at 1 and its age; the towers pool
                    // them against the candidate. Ages align with the whole bag (unknown ones, read 0, where they do not).
                    var bag = batch[s].Bags[f];
                    var ages = attention.Ages && batch[s].Ages is { } all && f < all.Length && all[f] is { } a && a.Length == bag.Length ? a : null;
                    for (var k = 0; k < items.Length; k++)
                    {
                        tb.Rows.AsSpan(items[items.Length - 1 - k] * tb.Dim, tb.Dim).CopyTo(row.Slice(attention.SlotsOffset + k * attention.Width, attention.Width));
                        row[attention.MaskOffset + k] = 1;
                        if (ages is not null) row[attention.AgeOffset + k] = AttentionSlot.AgeInput(ages[bag.Length - 1 - k]);
                    }
                    continue;
                }
                var dest = row.Slice(slot.Offset, slot.Width);
                var scale = 1f / items.Length;
                foreach (var item in items)
                {
                    var src = tb.Rows.AsSpan(item * tb.Dim, tb.Dim);
                    for (var k = 0; k < dest.Length; k++) dest[k] += src[k] * scale;
                }
            }
            var biasFields = _layout.BiasFields;
            for (var b = 0; b < biasFields.Count; b++)
            {
                var slot = biasFields[b];
                var tb = _tables[slot.TableIndex];
                tb.Rows.AsSpan(_biasSlots[s * biasFields.Count + b] * tb.Dim, tb.Dim).CopyTo(row.Slice(slot.Offset, BiasSlot.Width));
            }
            var values = batch[s].Numerics;
            for (var f = 0; f < numerics.Count; f++) row[numerics[f].Offset] = values[f];
            var rateFields = _layout.RateFields;
            for (var r = 0; r < rateFields.Count; r++)
            {
                _rateInputs.AsSpan((s * rateFields.Count + r) * RateSlot.Width, RateSlot.Width).CopyTo(row.Slice(rateFields[r].Offset, RateSlot.Width));
            }
        }
    }

    /// <summary>
    /// Each sample's inputs of each rate, per event: its key's settled counts, plus every known event of that key
    /// strictly before the sample's time (events still pending in the store, and, when training, the earlier samples
    /// of this very batch). Samples at the same time never see each other's labels, and a delayed label's positive
    /// counts only from when it arrived. When training, the batch's own events are listed for the push.
    /// </summary>
    private void RateInputs(IReadOnlyList<Sample> batch, TaskKind task, bool train)
    {
        var rateFields = _layout.RateFields;
        var rates = rateFields.Count;
        if (rates == 0) return;
        var n = batch.Count;
        if (_rateInputs.Length < n * rates * RateSlot.Width) _rateInputs = new float[n * rates * RateSlot.Width];
        if (_order.Length < n)
        {
            _order = new int[n];
            _times = new long[n];
        }
        for (var s = 0; s < n; s++)
        {
            _order[s] = s;
            _times[s] = batch[s].Time;
        }
        Array.Sort(_times, _order, 0, n);
        for (var r = 0; r < rates; r++)
        {
            var rb = _rates[r];
            if (rb.Train && rateFields[r].Task == task)
            {
                for (var s = 0; s < n; s++)
                {
                    var sample = batch[s];
                    var slot = _rateSlots[s * rates + r];
                    var (count, first, second) = LabelEvents.Of(sample);
                    if (count > 0) rb.Events.Add((slot, first.Time, first.Positives, first.Samples));
                    if (count > 1) rb.Events.Add((slot, second.Time, second.Positives, second.Samples));
                }
            }
            _events.Clear();
            _events.AddRange(rb.Pending);
            _events.AddRange(rb.Events);
            _events.Sort((a, b) => a.Time.CompareTo(b.Time));
            if (_running.Length < rb.Count * 2) _running = new double[rb.Count * 2];
            rb.Settled.AsSpan(0, rb.Count * 2).CopyTo(_running);
            var e = 0;
            var prior = rateFields[r].Prior;
            for (var k = 0; k < n; k++)
            {
                var s = _order[k];
                var time = _times[k];
                for (; e < _events.Count && _events[e].Time < time; e++)
                {
                    _running[2 * _events[e].Slot] += _events[e].Positives;
                    _running[2 * _events[e].Slot + 1] += _events[e].Samples;
                }
                var slot = _rateSlots[s * rates + r];
                Statistics.RateTable.Features(_running[2 * slot], _running[2 * slot + 1], rb.TotalPositives, rb.TotalSamples, prior,
                    _rateInputs.AsSpan((s * rates + r) * RateSlot.Width, RateSlot.Width));
            }
        }
    }

    /// <summary>Sums the input gradient per distinct id, into each training table's gradient buffer.</summary>
    private void Scatter(IReadOnlyList<Sample> batch, TaskKind task)
    {
        var n = batch.Count;
        var width = _layout.InputDim;
        foreach (var t in _tables)
        {
            if (t.Train) t.GradientSpan.Clear();
        }
        var idFields = _layout.IdFields;
        var bagFields = _layout.BagFields;
        // The loss is the batch's sum over a full step's size (see Compute); rows get the gradient of the batch's summed
        // loss (each sample's own gradient, whatever the batch size), which is the scale per-row Adagrad and FTRL are tuned for.
        var perSample = (float)Math.Max(n, _layout.BatchSizeOf(task));
        for (var s = 0; s < n; s++)
        {
            var g = _inputGrad.AsSpan(s * width, width);
            for (var f = 0; f < idFields.Count; f++)
            {
                var slot = idFields[f];
                var tb = _tables[slot.TableIndex];
                if (!tb.Train) continue;
                Add(tb.Gradients.AsSpan(_idSlots[s * idFields.Count + f] * tb.Dim, tb.Dim), g.Slice(slot.Offset, slot.Width), perSample);
            }
            for (var f = 0; f < bagFields.Count; f++)
            {
                var slot = bagFields[f];
                var tb = _tables[slot.TableIndex];
                if (!tb.Train) continue;
                var items = _bagSlots[s * bagFields.Count + f];
                if (items.Length == 0) continue;
                if (_layout.AttentionOf(f) is { } attention)
                {
                    for (var k = 0; k < items.Length; k++)
                    {
                        Add(tb.Gradients.AsSpan(items[items.Length - 1 - k] * tb.Dim, tb.Dim), g.Slice(attention.SlotsOffset + k * attention.Width, attention.Width), perSample);
                    }
                    continue;
                }
                var scale = perSample / items.Length;
                foreach (var item in items) Add(tb.Gradients.AsSpan(item * tb.Dim, tb.Dim), g.Slice(slot.Offset, slot.Width), scale);
            }
            var biasFields = _layout.BiasFields;
            for (var b = 0; b < biasFields.Count; b++)
            {
                var slot = biasFields[b];
                var tb = _tables[slot.TableIndex];
                if (!tb.Train) continue;
                Add(tb.Gradients.AsSpan(_biasSlots[s * biasFields.Count + b] * tb.Dim, tb.Dim), g.Slice(slot.Offset, BiasSlot.Width), perSample);
            }
        }
    }

    private static void Add(Span<float> into, ReadOnlySpan<float> values, float scale)
    {
        for (var k = 0; k < into.Length; k++) into[k] += values[k] * scale;
    }
}
