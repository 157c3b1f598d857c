using System.Globalization;
using ScottPlot;
using SkiaSharp;
using Smnist.Data;
using Smnist.Data.Strokes;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary>
/// The figure of one reading, for <c>smnist explain</c>: the 28×28 input as the network sees it, the ten class
/// probabilities over the timesteps (the final digit highlighted, the deciding step marked), and heat maps
/// (units × timesteps) of the last layer's forget, input and output gates and cell state. Drawn once onto a
/// raster canvas for the PNG and once onto an SVG canvas, so both files show the same figure.
/// </summary>
internal static class ExplainFigure
{
    private const int Width = 1500, Height = 980, TopHeight = 430, ImageWidth = 430;

    private static readonly Color Highlight = Color.FromHex("#d95f02");

    /// <summary>
    /// One colour per class, far apart in hue (3 red, 5 brown, 6 olive), with classes 5–9 dashed as well; the answer is
    /// drawn in black and bold, a colour no class has.
    /// </summary>
    private static readonly Color[] ClassColours =
        new[] { "#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f", "#e377c2", "#ff7f0e" }
            .Select(Color.FromHex).ToArray();

    private static readonly Color Answer = Colors.Black;

    /// <summary>The page's font (app.css: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif): its first family installed here.</summary>
    public static string FontFamily { get; } =
        new[] { "Segoe UI", "Roboto", "DejaVu Sans" }.FirstOrDefault(name => SKFontManager.Default.MatchFamily(name) is not null) ?? Fonts.Sans;

    public static void Write(ReadingTrace trace, string title, string pngPath, string svgPath)
    {
        List<(Plot Plot, PixelRect Rect)> panels = Panels(trace, title);

        using (var surface = SKSurface.Create(new SKImageInfo(Width, Height)))
        {
            Render(surface.Canvas, panels);
            using SKImage image = surface.Snapshot();
            using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
            AtomicFile.Write(pngPath, stream => png.SaveTo(stream));
        }

        using var svgStream = new SKDynamicMemoryWStream();
        using (SKCanvas canvas = SKSvgCanvas.Create(new SKRect(0, 0, Width, Height), svgStream))
            Render(canvas, panels);
        using SKData svg = svgStream.DetachAsData();
        AtomicFile.Write(svgPath, stream => svg.SaveTo(stream));
    }

    /// <summary>What one timestep reads: a row, a pen point (strokes) or a pixel.</summary>
    public static string StepName(SequenceLayout sequence) => sequence.View switch
    {
        SequenceView.Rows => "row",
        SequenceView.Strokes => "pen point",
        _ => "pixel",
    };

    private static void Render(SKCanvas canvas, List<(Plot Plot, PixelRect Rect)> panels)
    {
        canvas.Clear(SKColors.White);
        foreach ((Plot plot, PixelRect rect) in panels)
        {
            plot.Font.Set(FontFamily);
            plot.RenderManager.ClearCanvasBeforeEachRender = false;
            plot.Render(canvas, rect);
        }
    }

    private static List<(Plot, PixelRect)> Panels(ReadingTrace trace, string title)
    {
        var panels = new List<(Plot, PixelRect)>
        {
            (InputPanel(trace), new PixelRect(0, ImageWidth, TopHeight, 0)),
            (ProbabilityPanel(trace, title), new PixelRect(ImageWidth, Width, TopHeight, 0)),
        };
        int last = trace.Config.Layers - 1;
        (string Name, Func<int, ReadOnlySpan<float>> Values, bool Diverging)[] maps =
        [
            // A UR-LSTM's cells keep g of their memory, which its refine gate r shapes from the forget gate.
            trace.Config.RefineGate
                ? ("effective forget gate g", t => trace.EffectiveForgetGate(last, t), false)
                : ("forget gate f", t => trace.Gate(last, ParameterLayout.Forget, t), false),
            trace.Config.RefineGate
                ? ("refine gate r", t => trace.Gate(last, ParameterLayout.Refine, t), false)
                : ("input gate i", t => trace.Gate(last, ParameterLayout.Input, t), false),
            ("output gate o", t => trace.Gate(last, ParameterLayout.Output, t), false),
            ("cell state c", t => trace.Cell(last, t), true),
        ];
        float mapWidth = Width / 2f, mapHeight = (Height - TopHeight) / 2f;
        for (int k = 0; k < maps.Length; k++)
        {
            float left = k % 2 * mapWidth, top = TopHeight + k / 2 * mapHeight;
            panels.Add((MapPanel(trace, maps[k].Name, maps[k].Values, maps[k].Diverging), new PixelRect(left, left + mapWidth, top + mapHeight, top)));
        }
        return panels;
    }

    /// <summary>The image as read, row 1 at the top; for the rows view the deciding row is outlined.</summary>
    private static Plot InputPanel(ReadingTrace trace)
    {
        var plot = new Plot();
        if (trace.Pen is PenTrace pen)
        {
            // The path coloured by step, dark to light, as the probability panel's timesteps run left to right.
            StrokeDrawing.Add(plot, trace.Input, pen);
            plot.Axes.Left.TickGenerator = PixelTicks();
            plot.Axes.Bottom.TickGenerator = PixelTicks();
            plot.Title($"pen path read, {trace.Steps} points (squares start strokes)");
            return plot;
        }
        var pixels = new double[ImageSet.Height, ImageSet.Width];
        for (int y = 0; y < ImageSet.Height; y++)
        {
            for (int x = 0; x < ImageSet.Width; x++)
                pixels[y, x] = trace.Input[y * ImageSet.Width + x];
        }
        var image = plot.Add.Heatmap(pixels);
        image.Colormap = new ScottPlot.Colormaps.Grayscale();
        image.ManualRange = new ScottPlot.Range(0, 1);
        image.Extent = new CoordinateRect(0, ImageSet.Width, ImageSet.Height, 0);
        image.FlipVertically = true; // the y axis runs downwards, so array row 0 must land at its top
        if (trace.Sequence.View == SequenceView.Rows)
        {
            var decided = plot.Add.Rectangle(0, ImageSet.Width, trace.DecidedAt - 1, trace.DecidedAt);
            decided.FillColor = Colors.Transparent;
            decided.LineColor = Highlight;
            decided.LineWidth = 2;
        }
        plot.Axes.SetLimits(0, ImageSet.Width, ImageSet.Height, 0); // y grows downwards: row 1 on top
        plot.Axes.SquareUnits();
        plot.Axes.Left.TickGenerator = PixelTicks();
        plot.Axes.Bottom.TickGenerator = PixelTicks();
        plot.Title("input, as the network reads it");
        plot.YLabel(trace.Sequence.View == SequenceView.Rows ? "row (timestep)" : "row");
        plot.HideGrid();
        return plot;
    }

    private static Plot ProbabilityPanel(ReadingTrace trace, string title)
    {
        var plot = new Plot();
        int steps = trace.Steps, classes = trace.Config.Classes;
        double[] t = Enumerable.Range(1, steps).Select(s => (double)s).ToArray();
        for (int c = 0; c < classes; c++)
        {
            double[] p = new double[steps];
            for (int s = 1; s <= steps; s++)
                p[s - 1] = trace.StepProbabilities(s)[c];
            bool final = c == trace.Digit;
            var line = plot.Add.ScatterLine(t, p, final ? Answer : ClassColours[c % ClassColours.Length]);
            line.LineWidth = final ? 4.5f : 2f;
            line.LinePattern = final || c < 5 ? LinePattern.Solid : LinePattern.Dashed;
            line.LegendText = final ? $"{c} (the answer)" : c.ToString(CultureInfo.InvariantCulture);
        }
        // The label sits in a band above probability 1, where no line runs.
        plot.Add.VerticalLine(trace.DecidedAt, 1.5f, Colors.Black, LinePattern.Dashed);
        var decided = plot.Add.Text($" decided at {StepName(trace.Sequence)} {trace.DecidedAt} ", trace.DecidedAt, 1.1);
        decided.LabelFontSize = 14;
        decided.LabelAlignment = trace.DecidedAt > steps * 0.7 ? Alignment.MiddleRight : Alignment.MiddleLeft;
        decided.LabelBackgroundColor = Colors.White;
        decided.LabelFontName = FontFamily;
        plot.Axes.SetLimits(0.5, steps + 0.5, trace.Pen is null ? -0.02 : -0.08, 1.16);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.2);
        plot.Title(title);
        plot.XLabel(trace.Pen is null ? $"timestep ({StepName(trace.Sequence)} read)" : "timestep (pen point read; colours as on the path)");
        if (trace.Pen is not null)
            AddStepStrip(plot, steps);
        plot.YLabel("probability if the reading stopped here");
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>A strip under the lines in the path's step colours, so a step on the path can be found on the time axis.</summary>
    private static void AddStepStrip(Plot plot, int steps)
    {
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int s = 1; s <= steps; s++)
        {
            var cell = plot.Add.Rectangle(s - 0.5, s + 0.5, -0.07, -0.02);
            cell.FillColor = colormap.GetColor(steps == 1 ? 0 : (s - 1.0) / (steps - 1));
            cell.LineWidth = 0;
        }
    }

    /// <summary>Rows and columns numbered 1..28 at their centres, as timesteps count rows.</summary>
    private static ScottPlot.TickGenerators.NumericManual PixelTicks()
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int number in new[] { 1, 5, 10, 15, 20, 25, 28 })
            ticks.AddMajor(number - 0.5, number.ToString(CultureInfo.InvariantCulture));
        return ticks;
    }

    /// <summary>Units × timesteps: gates on a fixed 0..1 scale, the cell state on a diverging scale around 0.</summary>
    private static Plot MapPanel(ReadingTrace trace, string name, Func<int, ReadOnlySpan<float>> values, bool diverging)
    {
        var plot = new Plot();
        int steps = trace.Steps, units = trace.Config.HiddenSize;
        var grid = new double[units, steps];
        var magnitudes = new double[units * steps];
        for (int s = 1; s <= steps; s++)
        {
            ReadOnlySpan<float> column = values(s);
            for (int u = 0; u < units; u++)
            {
                grid[u, s - 1] = column[u];
                magnitudes[(s - 1) * units + u] = Math.Abs(column[u]);
            }
        }
        var map = plot.Add.Heatmap(grid);
        map.Extent = new CoordinateRect(0.5, steps + 0.5, units, 0);
        map.FlipVertically = true; // unit 0 at the top, as the axis reads
        if (diverging)
        {
            // A few units' cells grow large; scaled to the 99th percentile, the others stay visible (the few clip).
            Array.Sort(magnitudes);
            double scale = Math.Max(1e-6, magnitudes[(int)(0.99 * (magnitudes.Length - 1))]);
            map.Colormap = new ScottPlot.Colormaps.Balance();
            map.ManualRange = new ScottPlot.Range(-scale, scale);
        }
        else
        {
            map.Colormap = new ScottPlot.Colormaps.Viridis();
            map.ManualRange = new ScottPlot.Range(0, 1);
        }
        plot.Add.ColorBar(map);
        plot.Axes.SetLimits(0.5, steps + 0.5, units, 0);
        plot.Title($"{name}, last layer");
        plot.XLabel("timestep");
        plot.YLabel("unit");
        plot.HideGrid();
        return plot;
    }
}
