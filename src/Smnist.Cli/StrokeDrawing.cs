using ScottPlot;
using SkiaSharp;
using Smnist.Data;
using Smnist.Data.Strokes;
using Smnist.IO;

namespace Smnist.Cli;

/// <summary>A pen path drawn over its image: each move coloured by its step (viridis, dark to light), pen-up moves dashed grey.</summary>
internal static class StrokeDrawing
{
    private static readonly Color PenUp = Colors.Gray.WithAlpha(0.7);

    /// <summary>Adds the faint image (784 values in 0..1) and the path of <paramref name="trace"/> to <paramref name="plot"/>, y growing downwards.</summary>
    public static void Add(Plot plot, ReadOnlySpan<float> image, PenTrace trace)
    {
        var pixels = new double[ImageSet.Height, ImageSet.Width];
        for (int y = 0; y < ImageSet.Height; y++)
        {
            for (int x = 0; x < ImageSet.Width; x++)
                pixels[y, x] = 0.25 * image[y * ImageSet.Width + x];
        }
        var heatmap = plot.Add.Heatmap(pixels);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Extent = new CoordinateRect(0, ImageSet.Width, ImageSet.Height, 0);
        heatmap.FlipVertically = true;

        var colormap = new ScottPlot.Colormaps.Viridis();
        int steps = StrokeEncoding.StepsOf(trace);
        ReadOnlySpan<float> xs = trace.X, ys = trace.Y;
        ReadOnlySpan<int> ends = trace.StrokeEnds;
        int stroke = 0;
        for (int point = 0; point < steps; point++)
        {
            Color colour = colormap.GetColor(steps == 1 ? 0 : (double)point / (steps - 1));
            // Pixel centres sit at whole coordinates + 0.5 on the image's axes.
            double x = xs[point] + 0.5, y = ys[point] + 0.5;
            bool startsStroke = point == (stroke == 0 ? 0 : ends[stroke - 1]);
            if (point > 0)
            {
                var move = plot.Add.Line(xs[point - 1] + 0.5, ys[point - 1] + 0.5, x, y);
                move.LineColor = startsStroke ? PenUp : colour;
                move.LineWidth = startsStroke ? 1.5f : 4f;
                move.LinePattern = startsStroke ? LinePattern.Dashed : LinePattern.Solid;
            }
            var marker = plot.Add.Marker(x, y, startsStroke ? MarkerShape.FilledSquare : MarkerShape.FilledCircle, startsStroke ? 9 : 5, colour);
            marker.LegendText = "";
            if (point + 1 == ends[stroke])
                stroke++;
        }
        plot.Axes.SetLimits(0, ImageSet.Width, ImageSet.Height, 0);
        plot.Axes.SquareUnits();
        plot.HideGrid();
    }

    /// <summary>Writes a PNG of <paramref name="trace"/> over <paramref name="image"/> (784 bytes) with <paramref name="title"/>.</summary>
    public static void WritePng(ReadOnlySpan<byte> image, PenTrace trace, string title, string path, int size = 320)
    {
        var ink = new float[ImageSet.Pixels];
        for (int pixel = 0; pixel < ink.Length; pixel++)
            ink[pixel] = image[pixel] / 255f;
        var plot = new Plot();
        Add(plot, ink, trace);
        plot.Title(title);
        plot.Font.Set(ExplainFigure.FontFamily);
        byte[] png = plot.GetImageBytes(size, size, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }
}
