// Takes docs/live-page.png: the live pad of `smnist serve` in the middle of a stroke, drawn with the mouse in
// headless Debian chromium (/usr/bin/chromium). Build the command first; from the repository root:
//
//   dotnet build src/Smnist.Cli -c Release
//   dotnet run tools/live-screenshot.cs            # or: dotnet run tools/live-screenshot.cs -- OUT.png
//
// It starts the built smnist serve on a free port, draws a 3 on the live pad (the top bump, then half of the
// bottom one), and, with the mouse button still down, saves the live panel once every step sent has been read.
#:package Microsoft.Playwright@1.64.1
#:property PublishAot=false

using System.Diagnostics;
using Microsoft.Playwright;

string output = args.Length > 0 ? args[0] : "docs/live-page.png";
string smnist = Path.GetFullPath("src/Smnist.Cli/bin/Release/net10.0/smnist.dll");
if (!File.Exists(smnist))
{
    Console.Error.WriteLine($"error: {smnist} is missing; run dotnet build src/Smnist.Cli -c Release first");
    return 1;
}

using var serve = Process.Start(new ProcessStartInfo("dotnet", [smnist, "serve", "--port", "0"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
try
{
    // "serving mnist-rows (rows): open http://127.0.0.1:PORT/  (Ctrl+C stops)"
    string line = await serve.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("smnist serve ended without serving");
    string address = line.Split(' ').First(word => word.StartsWith("http://", StringComparison.Ordinal));

    using IPlaywright playwright = await Playwright.CreateAsync();
    await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true });
    IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1180, Height = 900 } });
    await page.GotoAsync(address);
    await page.Locator("#live-model-line", new PageLocatorOptions { HasTextString = "mnist-strokes" }).WaitForAsync();
    ILocator pad = page.Locator("#live-pad");
    await pad.ScrollIntoViewIfNeededAsync();
    LocatorBoundingBoxResult box = (await pad.BoundingBoxAsync())!;
    double scale = box.Width / 28;

    // A 3 in grid pixels: the top bump from its left end, then the bottom bump down to three quarters of its way.
    var points = new List<(double X, double Y)>();
    for (double a = -150; a <= 90; a += 6)
        points.Add((13.5 + 4.5 * Math.Cos(a * Math.PI / 180), 9 + 4.5 * Math.Sin(a * Math.PI / 180)));
    for (double a = -90; a <= 70; a += 6)
        points.Add((13.5 + 5 * Math.Cos(a * Math.PI / 180), 18.5 + 5 * Math.Sin(a * Math.PI / 180)));

    await page.Mouse.MoveAsync((float)(box.X + points[0].X * scale), (float)(box.Y + points[0].Y * scale));
    await page.Mouse.DownAsync();
    foreach ((double x, double y) in points.Skip(1))
        await page.Mouse.MoveAsync((float)(box.X + x * scale), (float)(box.Y + y * scale));
    await page.WaitForFunctionAsync("""
        () => document.getElementById('live-pad').dataset.sent !== '0'
          && document.getElementById('live-prediction').dataset.steps === document.getElementById('live-pad').dataset.sent
        """);
    await page.Locator("section.live").ScreenshotAsync(new LocatorScreenshotOptions { Path = output });
    await page.Mouse.UpAsync();
    Console.WriteLine($"wrote {output}: {await page.Locator("#live-steps").TextContentAsync()}, guess {await page.Locator("#live-prediction").TextContentAsync()}");
    return 0;
}
finally
{
    serve.Kill(entireProcessTree: true);
}
