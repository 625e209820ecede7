namespace Freshet.Grains.Persistence;

/// <summary>
/// A read-only stream over a state's chunks as they were read, one after another: the whole is parsed without being
/// copied into one array (which could not hold more than 2 GB). It can say its length and position, as the state's
/// readers check counts against the bytes left.
/// </summary>
public sealed class ChunkReadStream : Stream
{
    private readonly IReadOnlyList<byte[]> _chunks;
    private readonly long _length;
    private long _position;
    private int _chunk;
    private int _offset;

    public ChunkReadStream(IReadOnlyList<byte[]> chunks)
    {
        _chunks = chunks;
        foreach (var c in chunks) _length += c.Length;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = 0;
        while (!buffer.IsEmpty && _chunk < _chunks.Count)
        {
            var chunk = _chunks[_chunk];
            var n = Math.Min(buffer.Length, chunk.Length - _offset);
            chunk.AsSpan(_offset, n).CopyTo(buffer);
            buffer = buffer[n..];
            read += n;
            _offset += n;
            _position += n;
            if (_offset == chunk.Length)
            {
                _chunk++;
                _offset = 0;
            }
        }
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (target < 0 || target > _length) throw new IOException($"position {target} is outside the state's {_length} bytes");
        (_chunk, _offset, _position) = (0, 0, 0);
        while (_chunk < _chunks.Count && _position + _chunks[_chunk].Length <= target)
        {
            _position += _chunks[_chunk].Length;
            _chunk++;
        }
        _offset = (int)(target - _position);
        _position = target;
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
