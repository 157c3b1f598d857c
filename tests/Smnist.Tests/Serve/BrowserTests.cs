using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Smnist.Cli;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.Tests.Cli;
using Xunit.Abstractions;

namespace Smnist.Tests.Serve;

/// <summary>
/// One server (with the shipped default model) and one headless Debian chromium for the browser tests. Without
/// /usr/bin/chromium the tests are skipped, except under CI=true, where that is a failure: CI installs it.
/// </summary>
public class BrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    internal ReadingServer Server { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Where the tests save their screenshots.</summary>
    public string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "browser");

    /// <summary>The shipped model the server reads with; null for the default.</summary>
    protected virtual string? Model => null;

    /// <summary>The server's limits; null for serve's own.</summary>
    internal virtual ServerLimits? Limits => null;

    public async Task InitializeAsync()
    {
        Server = await ReadingServer.StartAsync(ShippedModels.Load(Model), DataAcquisition.ReadDirectory(CliHarness.DataDir).Test, IPAddress.Loopback, port: 0, Limits);
        if (!File.Exists(Chromium))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException($"{Chromium} is missing; CI must install Debian's chromium package (apt-get install chromium)");
            return;
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>The draw-a-digit page in a real browser, drawn on with the mouse as a person would.</summary>
[Trait("Category", "browser")]
public sealed class BrowserTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    /// <summary>Strokes in pad pixels (the pad is 280×280): each inner array is one press-drag-release.</summary>
    public static TheoryData<int, string> Digits() => new()
    {
        { 1, "140,40 140,240" },
        { 7, "70,55 210,55 | 210,55 115,235" },
    };

    [SkippableTheory]
    [MemberData(nameof(Digits))]
    public async Task ADigitDrawnWithTheMouseIsReadAsThatDigit(int digit, string strokes)
    {
        IPage page = await Pages.Open(fixture);
        ILocator pad = page.Locator("#pad");
        LocatorBoundingBoxResult box = (await pad.BoundingBoxAsync())!;
        double scale = box.Width / 280;
        foreach (string stroke in strokes.Split('|'))
        {
            (double X, double Y)[] points = stroke.Trim().Split(' ')
                .Select(p => p.Split(',')).Select(p => (box.X + double.Parse(p[0]) * scale, box.Y + double.Parse(p[1]) * scale)).ToArray();
            await page.Mouse.MoveAsync((float)points[0].X, (float)points[0].Y);
            await page.Mouse.DownAsync();
            foreach ((double x, double y) in points.Skip(1))
                await page.Mouse.MoveAsync((float)x, (float)y, new MouseMoveOptions { Steps = 25 });
            await page.Mouse.UpAsync();
        }

        string read = await Pages.FinishedDigit(page);
        await Pages.Screenshot(fixture, output, page, $"drawn-{digit}.png");
        Assert.Equal(digit.ToString(), read);
        Assert.Equal("", await page.Locator("#status").TextContentAsync());
        Assert.Contains("decided at row", await page.Locator("#decided").TextContentAsync());

        await page.Locator("#clear").ClickAsync();
        Assert.Null(await page.Locator("#prediction").GetAttributeAsync("data-digit"));
    }

    [SkippableFact]
    public async Task TheSampleButtonReadsATestImageAsTheApiDoes()
    {
        IPage page = await Pages.Open(fixture);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            // From the keyboard: focus the button and press Enter.
            await page.Locator("#sample").FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            (JsonNode api, string index) = await Pages.SampleReadAsTheApiReadsIt(fixture, page);
            Assert.Contains($"Test image {index}, labelled {(int)api["label"]!}", await page.Locator("#source").TextContentAsync());
        }
        await Pages.Screenshot(fixture, output, page, "sample.png");
    }

    [SkippableFact]
    public async Task AnUploadedImageIsRead()
    {
        IPage page = await Pages.Open(fixture);
        using var files = CliHarness.TempDir();
        ImageSet test = DataAcquisition.ReadDirectory(CliHarness.DataDir).Test;
        // Dark ink on white, as a photo of paper would be.
        byte[] rgb = test.Image(0).ToArray().SelectMany(p => Enumerable.Repeat((byte)(255 - p), 3)).ToArray();
        string path = files["digit.png"];
        CliHarness.WritePng(path, rgb, 28, 28);
        await page.Locator("#upload-file").SetInputFilesAsync(path);
        string digit = await Pages.FinishedDigit(page);
        JsonNode predicted = JsonNode.Parse(CliHarness.Succeeds("predict", "--json", path).Out)!;
        Assert.Equal((int)predicted["predictions"]![0]!["digit"]!, int.Parse(digit));
    }

    [SkippableFact]
    public async Task OnAPhoneSizedScreenNothingSpillsSideways()
    {
        IPage page = await Pages.Open(fixture, new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 375, Height = 740 }, HasTouch = true, IsMobile = true });
        await page.Locator("#sample").TapAsync();
        await Pages.FinishedDigit(page);
        int scrollWidth = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= 375, $"the page is {scrollWidth} pixels wide on a 375-pixel screen");
        await Pages.Screenshot(fixture, output, page, "phone.png", fullPage: true);
    }

    [SkippableFact]
    public async Task OnAPhoneTheAnswerIsOnScreenWhileTheUserLooksAtThePad()
    {
        IPage page = await Pages.Open(fixture, new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 375, Height = 740 }, HasTouch = true, IsMobile = true });
        ILocator pad = page.Locator("#pad");
        await pad.ScrollIntoViewIfNeededAsync();
        LocatorBoundingBoxResult box = (await pad.BoundingBoxAsync())!;
        double scale = box.Width / 280;
        await page.Mouse.MoveAsync((float)(box.X + 140 * scale), (float)(box.Y + 40 * scale));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync((float)(box.X + 140 * scale), (float)(box.Y + 240 * scale), new MouseMoveOptions { Steps = 20 });
        await page.Mouse.UpAsync();
        Assert.Equal("1", await Pages.FinishedDigit(page));
        await Pages.Screenshot(fixture, output, page, "phone-answer.png");
        // Both the pad and the answer are inside the 375 × 740 screen, without scrolling.
        foreach (string id in new[] { "#pad", "#prediction", "#confidence" })
        {
            LocatorBoundingBoxResult at = (await page.Locator(id).BoundingBoxAsync())!;
            Assert.True(at.Y >= 0 && at.Y + at.Height <= 740 && at.X >= 0 && at.X + at.Width <= 375, $"{id} is at ({at.X}, {at.Y}), {at.Width} × {at.Height}: off the 375 × 740 screen");
        }
    }

    [SkippableFact]
    public async Task TheReadingExplainsItsTermsAndDrawsItsChartAndAxes()
    {
        IPage page = await Pages.Open(fixture);
        await page.Locator("#sample").ClickAsync();
        await Pages.FinishedDigit(page);
        string terms = System.Text.RegularExpressions.Regex.Replace((await page.Locator(".terms").TextContentAsync())!, @"\s+", " ");
        Assert.Contains("% sure", terms);
        Assert.Contains("decided at row N", terms);
        Assert.Contains("Confidence is not correctness", terms);
        Assert.Equal(new[] { "1", "5", "10", "15", "20", "25" }, await page.Locator("#map-cell").Locator("xpath=../../div[@class='axis']/span").AllTextContentsAsync());
        // The chart has been drawn on: some pixels are not blank.
        Assert.True(await page.EvaluateAsync<bool>("""
            () => { const c = document.getElementById('chart'); return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0); }
            """));
        await Pages.Screenshot(fixture, output, page, "teaching.png", fullPage: true);
    }

    [SkippableFact]
    public async Task AnUnsureReadingIsFlaggedByTheRuleThePageStates()
    {
        IPage page = await Pages.Open(fixture);
        // A reading whose answer has 55 %: under the page's 80 %.
        await page.RouteAsync("**/api/sample*", async route =>
        {
            IAPIResponse real = await route.FetchAsync();
            JsonNode reading = JsonNode.Parse(await real.TextAsync())!;
            reading["probabilities"] = new JsonArray(0.55, 0.45, 0, 0, 0, 0, 0, 0, 0, 0);
            reading["digit"] = 0;
            await route.FulfillAsync(new RouteFulfillOptions { Response = real, Body = reading.ToJsonString() });
        });
        await page.Locator("#sample").ClickAsync();
        await Pages.FinishedDigit(page);
        Assert.Equal("55.0 % sure: unsure (under 80 %)", await page.Locator("#confidence").TextContentAsync());
        Assert.Contains("unsure", await page.Locator("#confidence").GetAttributeAsync("class"));
    }

    [SkippableFact]
    public async Task AnErrorThatIsNotJsonIsReportedWithItsStatus()
    {
        // As a proxy in front of the server might answer.
        IPage page = await Pages.Open(fixture);
        await page.RouteAsync("**/api/sample*", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 502, ContentType = "text/html", Body = "<html><body>Bad gateway</body></html>",
        }));
        await page.Locator("#sample").ClickAsync();
        ILocator status = page.Locator("#status", new PageLocatorOptions { HasTextString = "answered" });
        await status.WaitForAsync();
        Assert.StartsWith("the server answered 502", await status.TextContentAsync());
    }

    [SkippableFact]
    public async Task PlayingAReadingCreatesNoCanvases()
    {
        IPage page = await Pages.Open(fixture);
        await page.EvaluateAsync("""
            () => {
              window.canvasesCreated = 0;
              const create = document.createElement.bind(document);
              document.createElement = (tag, options) => {
                if (String(tag).toLowerCase() === 'canvas') window.canvasesCreated++;
                return create(tag, options);
              };
            }
            """);
        await page.Locator("#sample").ClickAsync();
        await Pages.FinishedDigit(page);
        Assert.Equal(0, await page.EvaluateAsync<int>("window.canvasesCreated"));
    }

}

/// <summary>The page with the pixel-by-pixel model: the same page reads 784 steps of one pixel.</summary>
[Trait("Category", "browser")]
public sealed class PixelsPageTests(PixelsBrowserFixture fixture, ITestOutputHelper output) : IClassFixture<PixelsBrowserFixture>
{
    [SkippableFact]
    public async Task TheSampleButtonReadsPixelByPixel()
    {
        IPage page = await Pages.Open(fixture);
        await page.Locator("#sample").ClickAsync();
        (JsonNode api, _) = await Pages.SampleReadAsTheApiReadsIt(fixture, page);
        Assert.Equal("Read all 784 pixels.", (await page.Locator("#step").TextContentAsync())!.Trim());
        Assert.Equal($"decided at pixel {(int)api["decided_at"]!} of 784", (await page.Locator("#decided").TextContentAsync())!.Trim());
        await Pages.Screenshot(fixture, output, page, "pixels-sample.png");
    }
}

/// <summary>The page with the pen-stroke model on the image pad as well as on the live pad.</summary>
[Trait("Category", "browser")]
public sealed class StrokesPageTests(StrokesBrowserFixture fixture) : IClassFixture<StrokesBrowserFixture>
{
    [SkippableFact]
    public async Task TheSampleButtonReadsTheTracedPath()
    {
        IPage page = await Pages.Open(fixture);
        Assert.Contains("the pen path traced from the image", await page.Locator("#model-line").TextContentAsync());
        await page.Locator("#sample").ClickAsync();
        (JsonNode api, _) = await Pages.SampleReadAsTheApiReadsIt(fixture, page);
        Assert.Equal($"Read all {api["steps"]!.AsArray().Count} pen steps.", (await page.Locator("#step").TextContentAsync())!.Trim());
        using var client = new HttpClient { BaseAddress = fixture.Server.Address };
        Assert.Equal("mnist-strokes", (string)JsonNode.Parse(await client.GetStringAsync("api/model"))!["live"]!["name"]!);
    }
}

/// <summary>The browser fixture with the shipped mnist-strokes model.</summary>
public sealed class StrokesBrowserFixture : BrowserFixture
{
    protected override string? Model => "mnist-strokes";
}

/// <summary>The browser fixture with the shipped mnist-pixels model.</summary>
public sealed class PixelsBrowserFixture : BrowserFixture
{
    protected override string? Model => "mnist-pixels";
}

/// <summary>Opening the page, waiting for a reading and saving screenshots, for every browser test class.</summary>
internal static class Pages
{
    public static async Task<IPage> Open(BrowserFixture fixture, BrowserNewPageOptions? options = null)
    {
        Skip.If(fixture.Browser is null, $"{BrowserFixture.Chromium} is not installed (apt-get install chromium)");
        IPage page = await fixture.Browser!.NewPageAsync(options ?? new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var problems = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") problems.Add(message.Text); };
        page.PageError += (_, error) => problems.Add(error);
        await page.GotoAsync(fixture.Server.Address.ToString());
        await page.Locator("#model-line", new PageLocatorOptions { HasTextString = "Model " }).WaitForAsync();
        Assert.Empty(problems);
        return page;
    }

    public static async Task<string> FinishedDigit(IPage page)
    {
        ILocator finished = page.Locator("#prediction[data-digit]");
        await finished.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        return (await finished.GetAttributeAsync("data-digit"))!;
    }

    /// <summary>
    /// Once the page has finished reading a test image: the API's reading of the same image (and its index), whose
    /// digit must be the page's.
    /// </summary>
    public static async Task<(JsonNode Api, string Index)> SampleReadAsTheApiReadsIt(BrowserFixture fixture, IPage page)
    {
        string digit = await FinishedDigit(page);
        string index = (await page.Locator("#prediction").GetAttributeAsync("data-index"))!;
        using var client = new HttpClient { BaseAddress = fixture.Server.Address };
        JsonNode api = JsonNode.Parse(await client.GetStringAsync($"api/sample?index={index}"))!;
        Assert.Equal((int)api["digit"]!, int.Parse(digit));
        return (api, index);
    }

    public static async Task Screenshot(BrowserFixture fixture, ITestOutputHelper output, IPage page, string name, bool fullPage = false)
    {
        string path = Path.Combine(fixture.ScreenshotFolder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        output.WriteLine($"screenshot: {path}");
    }
}
