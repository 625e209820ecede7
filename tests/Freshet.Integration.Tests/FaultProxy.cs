using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Freshet.Integration.Tests;

/// <summary>
/// A TCP forwarder in front of one of Azurite's ports that can cut it off: <see cref="Down"/> closes every connection
/// (reset) and stops listening (new connections are refused), as a stopped server looks to its clients; <see cref="Up"/>
/// listens again on the same port. Armed with <see cref="CutWhen"/>, it goes down the moment a client sends a request
/// matching it, before forwarding it: an outage at an exact point of a write, which stopping the emulator's process
/// could not hit (a small checkpoint is written in milliseconds) and after which Azurite's data is still all there.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly int _target;
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private TcpListener? _listener;
    private Regex? _cut;
    private Action<string>? _cutHappened;

    public FaultProxy(int targetPort)
    {
        _target = targetPort;
        Port = TestPorts.Free();
        Up();
    }

    public int Port { get; }

    public bool IsDown { get; private set; }

    /// <summary>What the client sent when the proxy cut it off, if it did.</summary>
    public string? CutAt { get; private set; }

    /// <summary>Goes down (and calls <paramref name="happened"/> with the request) at the first request whose head matches <paramref name="request"/>.</summary>
    public void CutWhen(Regex request, Action<string>? happened = null)
    {
        lock (_gate)
        {
            _cut = request;
            _cutHappened = happened;
        }
    }

    public void Up()
    {
        lock (_gate)
        {
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            IsDown = false;
            _ = AcceptAsync(listener);
        }
    }

    public void Down()
    {
        List<Socket> open;
        lock (_gate)
        {
            if (IsDown) return;
            IsDown = true;
            _listener?.Stop();
            _listener = null;
            open = [.. _open];
            _open.Clear();
        }
        foreach (var s in open)
        {
            try
            {
                s.LingerState = new LingerOption(true, 0); // a reset, as a dying server's sockets give
                s.Close();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Down();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target);
            }
            catch (SocketException)
            {
                client.Close();
                server.Dispose();
                continue;
            }
            lock (_gate)
            {
                if (IsDown)
                {
                    client.Close();
                    server.Close();
                    continue;
                }
                _open.Add(client);
                _open.Add(server);
            }
            _ = PumpAsync(client, server, inspect: true);
            _ = PumpAsync(server, client, inspect: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool inspect)
    {
        var buffer = new byte[64 * 1024];
        var tail = ""; // the end of the previous read: a request line may straddle two reads
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) break;
                if (inspect)
                {
                    Regex? cut;
                    lock (_gate) cut = _cut;
                    if (cut is not null)
                    {
                        var text = tail + Encoding.Latin1.GetString(buffer, 0, n);
                        var match = cut.Match(text);
                        if (match.Success)
                        {
                            Action<string>? happened;
                            lock (_gate)
                            {
                                _cut = null;
                                happened = _cutHappened;
                            }
                            var line = text[match.Index..];
                            CutAt = line[..Math.Min(line.Length, Math.Max(0, line.IndexOf('\r') is var r and >= 0 ? r : line.Length))];
                            Down();
                            happened?.Invoke(CutAt);
                            return; // the matching request is never forwarded
                        }
                        tail = text.Length > 512 ? text[^512..] : text;
                    }
                }
                var sent = 0;
                while (sent < n) sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        try
        {
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
