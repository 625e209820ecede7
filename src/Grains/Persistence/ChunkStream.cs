using System.Security.Cryptography;

namespace Freshet.Grains.Persistence;

/// <summary>
/// A write-only stream that hands what is written on as chunks of a fixed size, hashing it as it comes: a large state is
/// serialized once, into the chunks it is stored as, with no growing buffer and no copy of the whole.
/// </summary>
/// <param name="chunkBytes">Each chunk's size (the last one is cut to what was written).</param>
/// <param name="emit">Takes each chunk once it is full (and the last one at <see cref="Finish"/>); the stream keeps none.</param>
public sealed class ChunkStream(int chunkBytes, Action<byte[]> emit) : Stream
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[]? _current;
    private int _used;
    private long _length;
    private int _chunks;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _sha.AppendData(buffer);
        _length += buffer.Length;
        while (!buffer.IsEmpty)
        {
            _current ??= new byte[chunkBytes];
            var n = Math.Min(buffer.Length, _current.Length - _used);
            buffer[..n].CopyTo(_current.AsSpan(_used));
            _used += n;
            buffer = buffer[n..];
            if (_used == _current.Length) Emit(_current);
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    private void Emit(byte[] chunk)
    {
        _current = null;
        _used = 0;
        _chunks++;
        emit(chunk);
    }

    /// <summary>Hands on the last chunk (an empty one when nothing was written at all); the chunks' count, the bytes and their SHA-256.</summary>
    public (int Chunks, long Length, string Sha256) Finish()
    {
        if (_used > 0) Emit(_current!.AsSpan(0, _used).ToArray());
        else if (_chunks == 0) Emit([]);
        return (_chunks, _length, Convert.ToHexStringLower(_sha.GetHashAndReset()));
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _sha.Dispose();
        base.Dispose(disposing);
    }
}
