using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Smnist.Tests.Data;

/// <summary>An HTTP server on 127.0.0.1 serving fixed bytes by path, standing in for a dataset mirror.</summary>
internal sealed class FakeMirror : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files;
    private readonly Thread _thread;

    public FakeMirror(Dictionary<string, byte[]> files)
    {
        _files = files;
        int port = FreePort();
        BaseUri = new Uri($"http://127.0.0.1:{port}/mnist/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    public Uri BaseUri { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public void Dispose()
    {
        _listener.Close();
        _thread.Join();
    }

    private void Serve()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            string path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue(path);
            string name = path.StartsWith("/mnist/", StringComparison.Ordinal) ? path["/mnist/".Length..] : "";
            using HttpListenerResponse response = context.Response;
            if (_files.TryGetValue(name, out byte[]? content))
            {
                response.ContentLength64 = content.Length;
                response.OutputStream.Write(content);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
    }

    /// <summary>A port nobody listens on (closed right after being found), for an unreachable mirror.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
