using Microsoft.Playwright;
using Smnist.Cli.Serve;
using Xunit.Abstractions;

namespace Smnist.Tests.Serve;

/// <summary>
/// The live pad in a real browser: digits drawn stroke by stroke with the mouse, in the order and direction a person
/// writes them, along pen paths made here; the page reads them while they are drawn.
/// </summary>
[Trait("Category", "browser")]
public sealed class LiveBrowserTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    /// <summary>Grid pixels between the points of a pen path: 5 screen pixels on the 280-pixel pad, as a mouse moving at 300 pixels a second reports at 60 Hz.</summary>
    private const double Spacing = 0.5;

    [SkippableFact]
    public async Task DigitsDrawnStrokeByStrokeAreReadWhileDrawn()
    {
        IPage page = await Pages.Open(fixture);
        var read = new List<string>();
        int right = 0;
        for (int digit = 0; digit <= 9; digit++)
        {
            await Draw(page, HandwrittenDigits.Strokes(digit));
            string answer = await LiveDigit(page);
            read.Add($"{digit}→{answer}");
            if (answer == digit.ToString())
                right++;
            if (digit == 4)
                await Pages.Screenshot(fixture, output, page, "live-4.png");
            await page.Locator("#live-clear").ClickAsync();
            await page.Locator("#live-prediction[data-steps='0']:not([data-digit])").WaitForAsync();
        }
        output.WriteLine($"read {right} of 10: {string.Join(", ", read)}");
        Assert.True(right >= 9, $"read {right} of 10 right: {string.Join(", ", read)}");
        Assert.Equal("", await page.Locator("#live-status").TextContentAsync());
    }

    [SkippableFact]
    public async Task TheProbabilitiesChangeDuringOneStroke()
    {
        IPage page = await Pages.Open(fixture);
        (double X, double Y)[] stroke = HandwrittenDigits.Strokes(2).Single();
        ILocator prediction = page.Locator("#live-prediction");
        var seen = new List<string>();
        Func<(double X, double Y), (float X, float Y)> onPad = await PadPoints(page);
        await page.Mouse.MoveAsync(onPad(stroke[0]).X, onPad(stroke[0]).Y);
        await page.Mouse.DownAsync();
        for (int k = 1; k < stroke.Length; k++)
        {
            await page.Mouse.MoveAsync(onPad(stroke[k]).X, onPad(stroke[k]).Y);
            if (k % 15 != 0)
                continue;
            await AllRead(page);
            string shown = $"{await prediction.GetAttributeAsync("data-steps")}: {await page.Locator("#live-bars").GetAttributeAsync("aria-label")}";
            if (seen.Count == 0 || seen[^1] != shown)
                seen.Add(shown);
        }
        await Pages.Screenshot(fixture, output, page, "live-mid-stroke.png");
        int before = seen.Count;
        await page.Mouse.UpAsync();
        output.WriteLine(string.Join("\n", seen));
        Assert.True(before >= 4, $"the probabilities shown changed {before - 1} times during the stroke:\n{string.Join("\n", seen)}");
        Assert.NotNull(await prediction.GetAttributeAsync("data-digit"));
    }

    [SkippableFact]
    public async Task TheLivePadWorksOnAPhoneWithTouch()
    {
        IPage page = await Pages.Open(fixture, new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 375, Height = 740 }, HasTouch = true, IsMobile = true });
        int scrollWidth = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= 375, $"the page is {scrollWidth} pixels wide on a 375-pixel screen");
        // A finger's stroke, through the browser's own touch input: the page gets pointer events of type touch.
        Func<(double X, double Y), (float X, float Y)> onPad = await PadPoints(page);
        ICDPSession touch = await page.Context.NewCDPSessionAsync(page);
        (double X, double Y)[] stroke = HandwrittenDigits.Strokes(1).Single();
        for (int k = 0; k < stroke.Length; k++)
        {
            (float x, float y) = onPad(stroke[k]);
            await touch.SendAsync("Input.dispatchTouchEvent", new Dictionary<string, object>
            {
                ["type"] = k == 0 ? "touchStart" : "touchMove",
                ["touchPoints"] = new[] { new Dictionary<string, object> { ["x"] = x, ["y"] = y } },
            });
        }
        await touch.SendAsync("Input.dispatchTouchEvent", new Dictionary<string, object> { ["type"] = "touchEnd", ["touchPoints"] = Array.Empty<object>() });
        Assert.Equal("1", await LiveDigit(page));
        await Pages.Screenshot(fixture, output, page, "live-phone.png");
    }

    internal static async Task Draw(IPage page, IEnumerable<(double X, double Y)[]> strokes)
    {
        Func<(double X, double Y), (float X, float Y)> onPad = await PadPoints(page);
        foreach ((double X, double Y)[] stroke in strokes)
        {
            (float x, float y) = onPad(stroke[0]);
            await page.Mouse.MoveAsync(x, y);
            await page.Mouse.DownAsync();
            foreach ((double X, double Y) point in stroke.Skip(1))
            {
                (x, y) = onPad(point);
                await page.Mouse.MoveAsync(x, y);
            }
            await page.Mouse.UpAsync();
        }
    }

    /// <summary>Where a point of the 28×28 grid lies on the screen, on the live pad.</summary>
    private static async Task<Func<(double X, double Y), (float X, float Y)>> PadPoints(IPage page)
    {
        ILocator pad = page.Locator("#live-pad");
        await pad.ScrollIntoViewIfNeededAsync();
        LocatorBoundingBoxResult box = (await pad.BoundingBoxAsync())!;
        double scale = box.Width / 28;
        return point => ((float)(box.X + point.X * scale), (float)(box.Y + point.Y * scale));
    }

    /// <summary>Waits until the server has answered every step the pad has sent.</summary>
    private static Task AllRead(IPage page) => page.WaitForFunctionAsync("""
        () => {
          const sent = document.getElementById('live-pad').dataset.sent;
          return sent !== '0' && document.getElementById('live-prediction').dataset.steps === sent;
        }
        """, null, new PageWaitForFunctionOptions { Timeout = 30_000 });

    internal static async Task<string> LiveDigit(IPage page)
    {
        await AllRead(page);
        return (await page.Locator("#live-prediction").GetAttributeAsync("data-digit"))!;
    }

    /// <summary>
    /// Each digit as a person writes it: its strokes in order, each a list of points along the pen's path (grid
    /// pixels, x to the right, y down), filling MNIST's 20-pixel-high box.
    /// </summary>
    internal static class HandwrittenDigits
    {
        public static (double X, double Y)[][] Strokes(int digit) => digit switch
        {
            // From the top, anticlockwise on the screen, closing the loop.
            0 => [Curve(a => (14 - 5.5 * Math.Sin(a), 14 - 9 * Math.Cos(a)), 0, 2.1 * Math.PI)],
            1 => [Line((15, 5), (13.5, 23))],
            // The hook over the top, down to the bottom left, along the base.
            2 => [Join(Arc((14, 9.5), 5, -160, 30), Line((18.3, 12), (8.5, 23)), Line((8.5, 23), (20, 23)))],
            // Two bumps, top then bottom.
            3 => [Join(Arc((13.5, 9), 4.5, -150, 90), Arc((13.5, 18.5), 5, -90, 150))],
            // Down to the left and across; then the upright.
            4 => [Join(Line((15.5, 5), (8, 17.5)), Line((8, 17.5), (20, 17.5))), Line((17, 9), (17, 24))],
            // The back and the belly; then the flag on top.
            5 => [Join(Line((10, 5), (10, 12.8)), Arc((13, 17.5), 5.5, -120, 150)), Line((10, 5), (19, 5))],
            // Down the left side from the top right, then the loop along the bottom, up the right and back.
            6 => [Join(Curve(s => Bezier((18, 5.5), (10, 6), (9, 18), s), 0, 1), Arc((13.5, 18.5), 4.5, 180, -175))],
            7 => [Join(Line((8, 6), (20, 6)), Line((20, 6), (12, 24)))],
            // From the top, left round the upper loop, through the middle, round the lower loop and back up.
            8 => [Curve(a => (14 - 4.5 * Math.Sin(2 * a), 14 - 8.5 * Math.Cos(a)), 0, 2.05 * Math.PI)],
            // The loop anticlockwise from its right side, then the tail down.
            9 => [Join(Arc((13.5, 9.5), 4.5, 0, -360), Line((18, 9.5), (17, 24)))],
            _ => throw new ArgumentOutOfRangeException(nameof(digit)),
        };

        private static (double X, double Y) Bezier((double X, double Y) a, (double X, double Y) b, (double X, double Y) c, double s) =>
            ((1 - s) * (1 - s) * a.X + 2 * s * (1 - s) * b.X + s * s * c.X, (1 - s) * (1 - s) * a.Y + 2 * s * (1 - s) * b.Y + s * s * c.Y);

        private static (double X, double Y)[] Line((double X, double Y) from, (double X, double Y) to) =>
            Curve(s => (from.X + s * (to.X - from.X), from.Y + s * (to.Y - from.Y)), 0, 1);

        /// <summary>A circular arc from one angle to another (degrees, clockwise on the screen as they grow).</summary>
        private static (double X, double Y)[] Arc((double X, double Y) centre, double radius, double fromDegrees, double toDegrees) =>
            Curve(a => (centre.X + radius * Math.Cos(a * Math.PI / 180), centre.Y + radius * Math.Sin(a * Math.PI / 180)), fromDegrees, toDegrees);

        /// <summary>Points along f(t), t from <paramref name="from"/> to <paramref name="to"/>, about <see cref="Spacing"/> apart.</summary>
        private static (double X, double Y)[] Curve(Func<double, (double X, double Y)> f, double from, double to)
        {
            const int Fine = 400;
            double length = 0;
            for (int k = 1; k <= Fine; k++)
            {
                (double X, double Y) a = f(from + (to - from) * (k - 1) / Fine), b = f(from + (to - from) * k / Fine);
                length += Math.Sqrt((b.X - a.X) * (b.X - a.X) + (b.Y - a.Y) * (b.Y - a.Y));
            }
            int count = Math.Max(2, (int)Math.Ceiling(length / Spacing));
            return Enumerable.Range(0, count + 1).Select(k => f(from + (to - from) * k / count)).ToArray();
        }

        private static (double X, double Y)[] Join(params (double X, double Y)[][] parts) =>
            parts[0].Concat(parts.Skip(1).SelectMany(part => part.Skip(1))).ToArray();
    }
}

/// <summary>The live pad when the server closes an idle connection: the next stroke reconnects and sends the drawing again.</summary>
[Trait("Category", "browser")]
public sealed class LiveReconnectTests(LiveIdleBrowserFixture fixture) : IClassFixture<LiveIdleBrowserFixture>
{
    [SkippableFact]
    public async Task AfterAnIdleCloseTheNextStrokeSendsTheWholeDrawingAgain()
    {
        IPage page = await Pages.Open(fixture);
        (double X, double Y)[][] four = LiveBrowserTests.HandwrittenDigits.Strokes(4);
        await LiveBrowserTests.Draw(page, [four[0]]);
        await LiveBrowserTests.LiveDigit(page);
        string first = (await page.Locator("#live-prediction").GetAttributeAsync("data-steps"))!;
        await page.Locator("#live-status", new PageLocatorOptions { HasTextString = "closed the connection (no frame for 1 s)" }).WaitForAsync();
        await LiveBrowserTests.Draw(page, [four[1]]);
        Assert.Equal("4", await LiveBrowserTests.LiveDigit(page));
        int steps = int.Parse((await page.Locator("#live-prediction").GetAttributeAsync("data-steps"))!);
        Assert.True(steps > int.Parse(first), $"{steps} steps read after the second stroke, {first} after the first");
        Assert.Equal((await page.Locator("#live-pad").GetAttributeAsync("data-sent"))!, steps.ToString());
    }
}

/// <summary>The browser fixture with live connections closed after 1 s without a frame.</summary>
public sealed class LiveIdleBrowserFixture : BrowserFixture
{
    internal override ServerLimits? Limits => new() { LiveIdleTime = TimeSpan.FromSeconds(1) };
}
