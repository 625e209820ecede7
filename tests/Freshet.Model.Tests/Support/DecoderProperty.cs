using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace Freshet.Tests;

/// <summary>
/// The property every decoder of bytes from the wire or disk is held to: fed random bytes and valid payloads
/// mutated (bits flipped, cut short, lengthened, a count or length inflated, a range repeated), it returns or throws
/// its own documented error, whose message names the decoder, and allocates no more than a stated bound of the
/// input's length. Inputs per check: <see cref="InputsVariable"/> (default: the suite's modest count); each run
/// prints how many inputs it tried and how long it took, and appends that line to <see cref="ReportVariable"/>'s file.
/// </summary>
public static class DecoderProperty
{
    /// <summary>Environment variable: inputs per decoder (e.g. 1000000 for the long run).</summary>
    public const string InputsVariable = "FRESHET_DECODER_INPUTS";

    /// <summary>Environment variable: threads CsCheck samples on (default 1: the suite shares the machine).</summary>
    public const string ThreadsVariable = "FRESHET_DECODER_THREADS";

    /// <summary>Environment variable: a file each check appends its line (decoder, inputs, seconds) to.</summary>
    public const string ReportVariable = "FRESHET_DECODER_REPORT";

    /// <summary>Inputs per decoder in the suite: enough to hit each mutation near each header field, quick enough for seconds.</summary>
    public const long InSuite = 3_000;

    /// <summary>What an error may allocate beyond the bound (the exception, its message and its stack trace).</summary>
    public const long ErrorAllowance = 64 * 1024;

    private static readonly int[] Inflated = [-1, int.MinValue, int.MaxValue, 1 << 30, 1 << 28, 1 << 24, 0x7FFF_FFF0, 65_536, 1_000_000, 2];

    private static readonly long[] InflatedLong = [-1, long.MaxValue, long.MinValue, 1L << 40, 1L << 31, int.MaxValue + 1L];

    /// <summary>Inputs per decoder: <see cref="InputsVariable"/>'s count, else <paramref name="inSuite"/>.</summary>
    public static long Inputs(long inSuite = InSuite) => long.TryParse(Environment.GetEnvironmentVariable(InputsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : inSuite;

    private static int Threads => int.TryParse(Environment.GetEnvironmentVariable(ThreadsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    /// <summary>Random bytes (up to <paramref name="maxRandom"/>), and the <paramref name="valid"/> payloads mutated, four in five.</summary>
    public static Gen<byte[]> Payloads(IReadOnlyList<byte[]> valid, int maxRandom = 512)
    {
        var random = Gen.Byte.Array[0, maxRandom];
        var mutated = Gen.Select(Gen.Int[0, valid.Count - 1], Gen.Int[0, 6], Gen.Int[0, int.MaxValue], Gen.Int[1, 8], Gen.Int, Gen.Long)
            .Select(m => Mutate(valid[m.Item1], m.Item2, m.Item3, m.Item4, m.Item5, m.Item6));
        return Gen.Frequency((1, random), (4, mutated));
    }

    /// <summary>
    /// <paramref name="source"/> changed one way (<paramref name="kind"/>): bits flipped, cut short, lengthened with
    /// junk, an int32 or int64 overwritten with a value a count or length should never be (near the start, where
    /// headers are, half the time), a range repeated, or two mutations at once.
    /// </summary>
    public static byte[] Mutate(byte[] source, int kind, int position, int times, int value, long longValue)
    {
        var rng = new Random(position ^ value);
        var b = (byte[])source.Clone();
        int At(int width) => b.Length <= width ? 0 : (position % 2 == 0 ? position % Math.Min(b.Length - width, 96) : position % (b.Length - width));
        switch (kind)
        {
            case 0:
                if (b.Length == 0) return [(byte)value];
                for (var i = 0; i < times; i++) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1:
                return b[..(b.Length == 0 ? 0 : position % b.Length)];
            case 2:
            {
                var tail = new byte[1 + position % 64];
                rng.NextBytes(tail);
                return [.. b, .. tail];
            }
            case 3:
                if (b.Length >= 4) BitConverter.TryWriteBytes(b.AsSpan(At(4)), value % 3 == 0 ? value : Inflated[(value & int.MaxValue) % Inflated.Length]);
                return b;
            case 4:
                if (b.Length >= 8) BitConverter.TryWriteBytes(b.AsSpan(At(8)), longValue % 3 == 0 ? longValue : InflatedLong[(int)((longValue & long.MaxValue) % InflatedLong.Length)]);
                return b;
            case 5:
            {
                if (b.Length == 0) return b;
                var start = position % b.Length;
                var length = Math.Min(b.Length - start, 1 + times * 8);
                return [.. b[..(start + length)], .. b[start..]];
            }
            default:
                return Mutate(Mutate(source, 3, position, times, value, longValue), 0, position / 7, times, value >> 3, longValue);
        }
    }

    /// <summary>
    /// Checks <paramref name="decode"/> on every input of <paramref name="inputs"/>: it returns, or throws
    /// <typeparamref name="TError"/> (or a subclass) whose message contains <paramref name="names"/>; and it allocates at most
    /// <paramref name="bytesPerByte"/> times the input's length plus <paramref name="constant"/> (and <see cref="ErrorAllowance"/>
    /// when it throws). Returns the number of inputs tried.
    /// </summary>
    public static long Holds<TError>(ITestOutputHelper output, string decoder, Gen<byte[]> inputs, Action<byte[]> decode, string names, long bytesPerByte, long constant)
        where TError : Exception =>
        Holds<byte[], TError>(output, decoder, inputs, decode, input => input.Length, names, bytesPerByte, constant);

    /// <summary>
    /// As <see cref="Holds{TError}(ITestOutputHelper, string, Gen{byte[]}, Action{byte[]}, string, long, long)"/> for a decoder
    /// that fills something made beforehand (a shard's rows): <paramref name="target"/> makes one per sampling thread, outside
    /// what is measured, and the decoder reads into it again and again.
    /// </summary>
    public static long HoldsInto<TTarget, TError>(ITestOutputHelper output, string decoder, Gen<byte[]> inputs, Func<TTarget> target, Action<TTarget, byte[]> decode, string names, long bytesPerByte, long constant)
        where TError : Exception
    {
        using var targets = new ThreadLocal<TTarget>(target);
        return Holds<byte[], TError>(output, decoder, inputs, input => decode(targets.Value!, input), input => input.Length, names, bytesPerByte, constant, before: () => _ = targets.Value);
    }

    /// <summary>As <see cref="Holds{TError}(ITestOutputHelper, string, Gen{byte[]}, Action{byte[]}, string, long, long)"/> for inputs of any type, with <paramref name="size"/> their length in bytes.</summary>
    public static long Holds<T, TError>(ITestOutputHelper output, string decoder, Gen<T> inputs, Action<T> decode, Func<T, long> size, string names, long bytesPerByte, long constant, Action? before = null, long inSuite = InSuite)
        where TError : Exception
    {
        var count = Inputs(inSuite);
        long tried = 0;
        long errors = 0;
        var watch = Stopwatch.StartNew();
        inputs.Sample(input =>
        {
            before?.Invoke();
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try
            {
                decode(input);
            }
            catch (Exception e)
            {
                error = e;
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Interlocked.Increment(ref tried);
            if (error is not null)
            {
                if (error is not TError) throw new InvalidOperationException($"{decoder} threw {error.GetType().Name}, not its own {typeof(TError).Name}: {error.Message}", error);
                if (!error.Message.Contains(names, StringComparison.Ordinal)) throw new InvalidOperationException($"{decoder}: the error does not say where ('{names}'): {error.Message}", error);
                Interlocked.Increment(ref errors);
            }
            var bound = bytesPerByte * size(input) + constant + (error is null ? 0 : ErrorAllowance);
            if (allocated > bound)
            {
                throw new InvalidOperationException($"{decoder} allocated {allocated} bytes for an input of {size(input)} bytes; the bound is {bound} ({bytesPerByte} per byte + {constant}){(error is null ? "" : $", and it failed: {error.Message}")}");
            }
        }, iter: count, threads: Threads, print: input => input is byte[] b ? $"{b.Length} bytes: {Convert.ToHexString(b.AsSpan(0, Math.Min(b.Length, 96)))}" : $"{input}");
        watch.Stop();
        var line = string.Create(CultureInfo.InvariantCulture, $"{decoder}: {tried} inputs ({errors} refused) in {watch.Elapsed.TotalSeconds:F1} s, {Threads} thread(s)");
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } report) File.AppendAllText(report, line + Environment.NewLine);
        Assert.True(tried >= count, $"{decoder}: {tried} inputs tried, {count} asked");
        return tried;
    }
}
