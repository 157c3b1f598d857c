using Smnist.Cli;
using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.Data.Strokes;
using Xunit.Abstractions;

namespace Smnist.Tests.Data.Strokes;

[Trait("Category", "unit")]
public sealed class StrokeTracerTests(ITestOutputHelper output)
{
    private static readonly Lazy<ImageSet> Subset = new(() => DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory).Test);

    private static string PictureFolder => Path.Combine(AppContext.BaseDirectory, "TestResults", "strokes");

    [Fact]
    public void TracesOfTheSubsetStayOnTheSkeletonAndCoverIt()
    {
        ImageSet set = Subset.Value;
        var lengths = new List<int>();
        var strokes = new List<int>();
        for (int index = 0; index < set.Count; index++)
        {
            ReadOnlySpan<byte> image = set.Image(index);
            PenTrace trace = StrokeTracer.Trace(image);
            bool[] skeleton = StrokeTracer.SkeletonPixels(image);
            lengths.Add(trace.Length);
            strokes.Add(trace.Strokes);
            Assert.InRange(trace.Length, 1, StrokeEncoding.MaxSteps);
            var visited = new bool[ImageSet.Pixels];
            for (int point = 0; point < trace.Length; point++)
            {
                int x = (int)trace.X[point], y = (int)trace.Y[point];
                Assert.InRange(x, 0, ImageSet.Width - 1);
                Assert.InRange(y, 0, ImageSet.Height - 1);
                Assert.True(skeleton[y * ImageSet.Width + x], $"image {index}: point {point} ({x}, {y}) is off the skeleton");
                visited[y * ImageSet.Width + x] = true;
            }
            for (int pixel = 0; pixel < ImageSet.Pixels; pixel++)
                Assert.True(!skeleton[pixel] || visited[pixel], $"image {index}: skeleton pixel {pixel} is never drawn");
            // Within a stroke the pen moves to a neighbouring pixel at each step.
            int start = 0;
            foreach (int end in trace.StrokeEnds)
            {
                for (int point = start + 1; point < end; point++)
                {
                    Assert.InRange(Math.Abs(trace.X[point] - trace.X[point - 1]), 0, 1);
                    Assert.InRange(Math.Abs(trace.Y[point] - trace.Y[point - 1]), 0, 1);
                }
                start = end;
            }
        }
        lengths.Sort();
        output.WriteLine($"{set.Count} images: steps min {lengths[0]}, median {lengths[lengths.Count / 2]}, mean {lengths.Average():F1}, p99 {lengths[(int)(0.99 * (lengths.Count - 1))]}, max {lengths[^1]}; strokes mean {strokes.Average():F2}, max {strokes.Max()}");
        for (int k = 1; k <= 5; k++)
            output.WriteLine($"  {k} stroke(s): {strokes.Count(s => s == k)}");
    }

    [Fact]
    public void WritesPicturesOfTracedDigits()
    {
        ImageSet set = Subset.Value;
        Directory.CreateDirectory(PictureFolder);
        for (int index = 0; index < 30; index++)
        {
            PenTrace trace = StrokeTracer.Trace(set.Image(index));
            string path = Path.Combine(PictureFolder, $"test-{index:D3}-digit-{set.Labels[index]}.png");
            StrokeDrawing.WritePng(set.Image(index), trace, $"test {index}: {set.Labels[index]}, {trace.Length} steps, {trace.Strokes} strokes", path);
            Assert.True(new FileInfo(path).Length > 1000);
        }
        output.WriteLine(PictureFolder);
    }
}
