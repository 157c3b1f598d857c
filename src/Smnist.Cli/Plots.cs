using ScottPlot;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary>The run's figures, rendered with ScottPlot and written atomically.</summary>
internal static class Plots
{
    private const int Width = 900, Height = 500;

    private static readonly Color Blue = Color.FromHex("#1f77b4");
    private static readonly Color Orange = Color.FromHex("#d95f02");

    private const string LossPng = "loss.png", LossSvg = "loss.svg", AccuracyPng = "accuracy.png", ConfusionPng = "confusion.png";

    /// <summary>The figures a run folder holds: removed with the rest of an earlier run, and when a run continues.</summary>
    public static readonly string[] RunFiles = [LossPng, LossSvg, AccuracyPng, ConfusionPng];

    /// <summary>loss.png and loss.svg of the run so far; returns their paths.</summary>
    public static IEnumerable<string> WriteLoss(RunDirectory run)
    {
        string png = run.FileIn(LossPng), svg = run.FileIn(LossSvg);
        WriteLoss(run.Losses, png, svg);
        return [png, svg];
    }

    /// <summary>
    /// accuracy.png (per finished epoch, on the validation set when the run has one, else on the test set with the
    /// final evaluation where the run stopped inside an epoch) and confusion.png (the final test evaluation); returns their paths.
    /// </summary>
    public static IEnumerable<string> WriteResults(RunDirectory run, Trainer trainer, EvaluationResult final)
    {
        bool validation = trainer.ValidationCount > 0;
        var accuracy = trainer.History.Select(e => ((double)e.Epoch, validation ? e.ValidationAccuracy : e.TestAccuracy)).ToList();
        if (!validation && trainer.Step % trainer.BatchesPerEpoch != 0)
            accuracy.Add(((double)trainer.Step / trainer.BatchesPerEpoch, final.Accuracy));
        string accuracyPng = run.FileIn(AccuracyPng), confusionPng = run.FileIn(ConfusionPng);
        WriteAccuracy(accuracy, validation ? "validation" : "test", accuracyPng);
        WriteConfusion(final.Confusion, confusionPng);
        return [accuracyPng, confusionPng];
    }

    /// <summary>
    /// Every step's loss, faint, under an exponential moving average (bias-corrected, as TensorBoard smooths) whose
    /// window scales with the run's length; dashed vertical lines where an epoch ends.
    /// </summary>
    private static void WriteLoss(IReadOnlyList<LossPoint> points, string pngPath, string svgPath)
    {
        var plot = new Plot();
        double[] steps = points.Select(p => (double)p.Step).ToArray();
        double[] losses = points.Select(p => (double)p.Loss).ToArray();
        int window = Math.Clamp(points.Count / 50, 5, 200);

        var raw = plot.Add.ScatterLine(steps, losses, Blue.WithAlpha(0.2));
        raw.LineWidth = 1;
        raw.LegendText = "loss per step";
        // A contrasting colour: over tens of thousands of faint steps, a blue average disappears.
        var smooth = plot.Add.ScatterLine(steps, ExponentialMovingAverage(losses, window), Orange);
        smooth.LineWidth = 2.5f;
        smooth.LegendText = $"moving average (EMA, ~{window} steps)";

        bool labelled = false;
        for (int i = 0; i + 1 < points.Count; i++)
        {
            if (points[i].Epoch == points[i + 1].Epoch)
                continue;
            // Between the last step of one epoch and the first of the next.
            var boundary = plot.Add.VerticalLine(points[i].Step + 0.5, 1, Colors.Gray, LinePattern.Dashed);
            if (!labelled)
            {
                boundary.LegendText = "epoch boundary";
                labelled = true;
            }
        }

        plot.Title("Training loss");
        plot.XLabel("step");
        plot.YLabel("cross-entropy loss");
        plot.Axes.SetLimitsY(0, Math.Max(1e-3, (losses.Length == 0 ? 1 : losses.Max()) * 1.05));
        plot.ShowLegend(Alignment.UpperRight);
        WritePng(plot, pngPath);
        AtomicFile.WriteAllText(svgPath, plot.GetSvgXml(Width, Height));
    }

    /// <summary>Accuracy on <paramref name="set"/> after each epoch, in percent (a fractional epoch where a run stopped inside one).</summary>
    private static void WriteAccuracy(IReadOnlyList<(double Epoch, double Accuracy)> epochs, string set, string pngPath)
    {
        var plot = new Plot();
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        double[] y = epochs.Select(e => e.Accuracy * 100).ToArray();
        var line = plot.Add.Scatter(x, y, Blue);
        line.LineWidth = 2;
        line.MarkerSize = 8;
        for (int i = 0; i < x.Length; i++)
        {
            var label = plot.Add.Text($"{y[i]:F2}", x[i], y[i]);
            label.LabelFontSize = 11;
            label.LabelAlignment = Alignment.LowerCenter;
            label.OffsetY = -6;
        }

        plot.Title($"{char.ToUpperInvariant(set[0])}{set[1..]} accuracy per epoch");
        plot.XLabel("epoch");
        plot.YLabel($"{set} accuracy (%)");
        if (x.Length is > 0 and <= 30)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            foreach (double epoch in x)
                ticks.AddMajor(epoch, epoch.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
            plot.Axes.Bottom.TickGenerator = ticks;
        }
        double low = y.Length == 0 ? 0 : y.Min(), high = y.Length == 0 ? 100 : y.Max();
        double pad = Math.Max(0.2, (high - low) * 0.15);
        plot.Axes.SetLimits(x.FirstOrDefault() - 0.5, x.LastOrDefault() + 0.5, Math.Max(0, low - pad), Math.Min(100, high + pad) + pad / 2);
        WritePng(plot, pngPath);
    }

    /// <summary>10×10 heatmap of true (rows) against predicted (columns) classes, shaded by the share of each true class, with counts.</summary>
    public static void WriteConfusion(int[,] confusion, string pngPath)
    {
        int classes = confusion.GetLength(0);
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Blues();
        for (int actual = 0; actual < classes; actual++)
        {
            int rowTotal = Enumerable.Range(0, classes).Sum(p => confusion[actual, p]);
            for (int predicted = 0; predicted < classes; predicted++)
            {
                int count = confusion[actual, predicted];
                double share = rowTotal == 0 ? 0 : (double)count / rowTotal;
                // Square root so the rare confusions are visible beside the dominant diagonal; this colormap
                // runs from dark (0) to white (1), hence the reversal.
                Color fill = colormap.GetColor(1 - Math.Sqrt(share));
                double y = classes - 1 - actual;
                var cell = plot.Add.Rectangle(predicted, predicted + 1, y, y + 1);
                cell.FillColor = fill;
                cell.LineColor = Colors.White;
                cell.LineWidth = 1;
                var text = plot.Add.Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture), predicted + 0.5, y + 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 13;
                text.LabelFontColor = count == 0 ? Colors.LightGray : share > 0.45 ? Colors.White : Colors.Black;
            }
        }

        var bottom = new ScottPlot.TickGenerators.NumericManual();
        var left = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < classes; c++)
        {
            string name = c.ToString(System.Globalization.CultureInfo.InvariantCulture);
            bottom.AddMajor(c + 0.5, name);
            left.AddMajor(classes - 1 - c + 0.5, name);
        }
        plot.Axes.Bottom.TickGenerator = bottom;
        plot.Axes.Left.TickGenerator = left;
        plot.Axes.SetLimits(0, classes, 0, classes);
        plot.HideGrid();
        plot.Title("Confusion matrix (test set)");
        plot.XLabel("predicted");
        plot.YLabel("true");
        WritePng(plot, pngPath, 640, 600);
    }

    /// <summary>Bias-corrected exponential moving average with the given nominal window.</summary>
    internal static double[] ExponentialMovingAverage(IReadOnlyList<double> values, int window)
    {
        double beta = 1 - 1.0 / window;
        var result = new double[values.Count];
        double average = 0, weight = 0;
        for (int i = 0; i < values.Count; i++)
        {
            average = beta * average + (1 - beta) * values[i];
            weight = beta * weight + (1 - beta);
            result[i] = average / weight;
        }
        return result;
    }

    private static void WritePng(Plot plot, string path, int width = Width, int height = Height)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }
}
