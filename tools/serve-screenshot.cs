// Takes docs/serve-reading.png: the page of `smnist serve` part way through reading a hand-drawn 3, drawn with the
// mouse in headless Debian chromium (/usr/bin/chromium). Build the command first; from the repository root:
//
//   dotnet build src/Smnist.Cli -c Release
//   dotnet run tools/serve-screenshot.cs            # or: dotnet run tools/serve-screenshot.cs -- OUT.png ROW
//
// It starts the built smnist serve (the shipped mnist-rows) on a free port, draws a 3 on the first pad in one
// stroke (the top bump, then the bottom one), stops the page's clock, lets the playback run up to row ROW (16 unless
// given) and saves the top of the page. It prints the three likeliest digits at that row and the final answer, for
// the README's caption.
#:package Microsoft.Playwright@1.64.1
#:property PublishAot=false

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

string output = args.Length > 0 ? args[0] : "docs/serve-reading.png";
int row = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
const int Rows = 28;
const int ReadingMs = 1400; // app.js READING_MS: the playback shows row k from (k − 1) · 1400 / 28 ms on
string smnist = Path.GetFullPath("src/Smnist.Cli/bin/Release/net10.0/smnist.dll");
if (!File.Exists(smnist))
{
    Console.Error.WriteLine($"error: {smnist} is missing; run dotnet build src/Smnist.Cli -c Release first");
    return 1;
}
if (row is < 1 or > Rows)
{
    Console.Error.WriteLine($"error: row must be 1 to {Rows}, not {row}");
    return 2;
}

using var serve = Process.Start(new ProcessStartInfo("dotnet", [smnist, "serve", "--port", "0"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
try
{
    // "serving mnist-rows (rows): open http://127.0.0.1:PORT/  (Ctrl+C stops)"
    string line = await serve.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("smnist serve ended without serving");
    string address = line.Split(' ').First(word => word.StartsWith("http://", StringComparison.Ordinal));

    using IPlaywright playwright = await Playwright.CreateAsync();
    await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true });
    IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 1400 } });
    // A fake clock, so that the playback (requestAnimationFrame against performance.now) stops exactly at the row.
    await page.Clock.InstallAsync();
    await page.GotoAsync(address);
    await page.Locator("#model-line", new PageLocatorOptions { HasTextString = "mnist-rows" }).WaitForAsync();
    ILocator pad = page.Locator("#pad");
    LocatorBoundingBoxResult box = (await pad.BoundingBoxAsync())!;
    double scale = box.Width / 280;

    // A 3 in the pad's 280 pixels: the top bump from its left end round to the middle, then the bottom bump.
    var points = new List<(double X, double Y)>();
    for (double a = -160; a <= 90; a += 5)
        points.Add((140 + 55 * Math.Cos(a * Math.PI / 180), 90 + 50 * Math.Sin(a * Math.PI / 180)));
    for (double a = -90; a <= 140; a += 5)
        points.Add((140 + 62 * Math.Cos(a * Math.PI / 180), 200 + 60 * Math.Sin(a * Math.PI / 180)));

    await page.Clock.PauseAtAsync(DateTime.UtcNow.AddMinutes(1));
    await page.Mouse.MoveAsync((float)(box.X + points[0].X * scale), (float)(box.Y + points[0].Y * scale));
    await page.Mouse.DownAsync();
    foreach ((double x, double y) in points.Skip(1))
        await page.Mouse.MoveAsync((float)(box.X + x * scale), (float)(box.Y + y * scale));
    await page.Mouse.UpAsync();
    // The stroke's end sends the drawing; play() marks the body once the reading has come back.
    await page.WaitForFunctionAsync("() => document.body.classList.contains('reading')");
    await page.Clock.RunForAsync((row - 1) * ReadingMs / Rows + ReadingMs / Rows / 2);
    string step = await page.Locator("#step").TextContentAsync() ?? "";
    if (step != $"Reading row {row} of {Rows}")
        throw new InvalidOperationException($"the page shows \"{step}\", not row {row}");
    await page.ScreenshotAsync(new PageScreenshotOptions { Path = output, Clip = new Clip { X = 0, Y = 0, Width = 1200, Height = await BottomOfGates(page) } });

    string readingJson = await page.EvaluateAsync<string>("() => JSON.stringify({ steps: playback.reading.steps.map(s => s.probabilities), digit: playback.reading.digit, decided: playback.reading.decided_at })");
    using JsonDocument reading = JsonDocument.Parse(readingJson);
    double[] atRow = reading.RootElement.GetProperty("steps")[row - 1].EnumerateArray().Select(p => p.GetDouble()).ToArray();
    string likeliest = string.Join(", ", Enumerable.Range(0, 10).OrderByDescending(d => atRow[d]).Take(3).Select(d => $"{d} {atRow[d]:P0}"));
    Console.WriteLine($"wrote {output}: at row {row} of {Rows} {likeliest}; read as {reading.RootElement.GetProperty("digit")}, decided at row {reading.RootElement.GetProperty("decided")}");
    return 0;
}
finally
{
    serve.Kill(entireProcessTree: true);
}

// The page down to the end of the "Inside the LSTM" panel, in CSS pixels.
static async Task<float> BottomOfGates(IPage page)
{
    LocatorBoundingBoxResult gates = (await page.Locator("section[aria-labelledby='gates-title']").BoundingBoxAsync())!;
    return gates.Y + gates.Height + 8;
}
