using Microsoft.AspNetCore.Http;

namespace Smnist.Cli.Serve;

/// <summary>One file of the serve page, embedded in the assembly (Serve/Page), served from memory.</summary>
internal sealed class PageAsset(byte[] content, string contentType)
{
    /// <summary>Every asset under the URL path it is served at; "/" is the page itself.</summary>
    public static readonly IReadOnlyDictionary<string, PageAsset> All = new Dictionary<string, PageAsset>
    {
        ["/"] = Load("index.html", "text/html; charset=utf-8"),
        ["/app.js"] = Load("app.js", "text/javascript; charset=utf-8"),
        ["/chart.js"] = Load("chart.js", "text/javascript; charset=utf-8"),
        ["/live.js"] = Load("live.js", "text/javascript; charset=utf-8"),
        ["/app.css"] = Load("app.css", "text/css; charset=utf-8"),
        ["/favicon.svg"] = Load("favicon.svg", "image/svg+xml"),
    };

    // Everything the page uses comes from this server; the policy makes the browser refuse anything else.
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

    public Task Write(HttpContext http)
    {
        http.Response.ContentType = contentType;
        http.Response.ContentLength = content.Length;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return http.Response.Body.WriteAsync(content).AsTask();
    }

    private static PageAsset Load(string name, string contentType)
    {
        using Stream stream = typeof(PageAsset).Assembly.GetManifestResourceStream($"page/{name}")
            ?? throw new InvalidOperationException($"this build of smnist lacks its embedded page/{name}");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return new PageAsset(memory.ToArray(), contentType);
    }
}
