using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.Data.Strokes;
using Smnist.Training;

namespace Smnist.Tests.Data.Strokes;

[Trait("Category", "unit")]
public sealed class StrokeSourceTests
{
    private static readonly Lazy<ImageSet> Subset = new(() => DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory).Test.Take(200));

    [Fact]
    public void EncodingMovesFromPointToPointAndMarksEnds()
    {
        var trace = new PenTrace([10, 11, 11, 20], [5, 5, 6, 9], [3, 4]);
        float[] steps = StrokeEncoding.Encode(trace);
        Assert.Equal(
            [10 - 14, 5 - 14, 0, 0,
             1, 0, 0, 0,
             0, 1, 1, 0,
             9, 3, 1, 1], steps);
    }

    [Fact]
    public void AnImageWithoutInkIsOneStepThatEndsTheDigit()
    {
        PenTrace trace = StrokeTracer.Trace(new byte[ImageSet.Pixels]);
        Assert.Equal(0, trace.Length);
        Assert.Equal([0f, 0f, 0f, 1f], StrokeEncoding.Encode(trace));
    }

    [Fact]
    public void TracingIsDeterministicAndTheCacheReadsBackTheSameTraces()
    {
        ImageSet set = Subset.Value;
        using var folder = new TemporaryDirectory();
        StrokeSet first = StrokeSet.Trace(set, folder.Path);
        string file = Assert.Single(Directory.GetFiles(folder.Path));
        Assert.StartsWith($"strokes-v{StrokeEncoding.Version}-", Path.GetFileName(file));
        StrokeSet cached = StrokeSet.Trace(set, folder.Path);
        StrokeSet again = StrokeSet.Trace(set);
        for (int index = 0; index < set.Count; index++)
        {
            Assert.Equal(StrokeEncoding.Encode(first[index]), StrokeEncoding.Encode(cached[index]));
            Assert.Equal(StrokeEncoding.Encode(first[index]), StrokeEncoding.Encode(again[index]));
        }
    }

    [Fact]
    public void ADamagedCacheFileIsTracedAgainAndRewritten()
    {
        ImageSet set = Subset.Value.Take(20);
        using var folder = new TemporaryDirectory();
        StrokeSet.Trace(set, folder.Path);
        string file = Assert.Single(Directory.GetFiles(folder.Path));
        byte[] content = File.ReadAllBytes(file);
        content[40] ^= 0x5A;
        File.WriteAllBytes(file, content);
        Assert.Null(StrokeSet.TryRead(file, set.Count));
        StrokeSet traced = StrokeSet.Trace(set, folder.Path);
        Assert.NotNull(StrokeSet.TryRead(file, set.Count));
        Assert.Equal(StrokeEncoding.Encode(StrokeTracer.Trace(set.Image(3))), StrokeEncoding.Encode(traced[3]));
    }

    [Fact]
    public void FillWritesEachExampleForItsLengthAndZerosAfter()
    {
        ImageSet set = Subset.Value;
        var source = (StrokeSource)ImageSequences.Source(set, SequenceLayout.Create(SequenceView.Strokes));
        Assert.Equal(StrokeEncoding.MaxSteps, source.Steps);
        int[] examples = [4, 0, 9];
        var inputs = new float[source.Steps * examples.Length * source.Features];
        inputs.AsSpan().Fill(float.NaN);
        var labels = new int[examples.Length];
        source.Fill(examples, new BatchPosition(0, 0), inputs, labels);
        for (int b = 0; b < examples.Length; b++)
        {
            Assert.Equal(set.Labels[examples[b]], labels[b]);
            float[] expected = StrokeEncoding.Encode(source.Traces[examples[b]]);
            int length = source.LengthOf(examples[b]);
            Assert.Equal(expected.Length / StrokeEncoding.Features, length);
            for (int t = 0; t < source.Steps; t++)
            {
                for (int f = 0; f < source.Features; f++)
                {
                    float value = inputs[(t * examples.Length + b) * source.Features + f];
                    Assert.Equal(t < length ? expected[t * StrokeEncoding.Features + f] : 0f, value);
                }
            }
        }
    }

    [Fact]
    public void AugmentationIsDrawnPerEpochAndExampleAndKeepsThePathsShape()
    {
        ImageSet set = Subset.Value;
        StrokeSet traces = StrokeSet.Trace(set);
        var augmentation = new StrokeAugmentation();
        int reordered = 0, reversedSomewhere = 0, multiStroke = 0;
        for (int index = 0; index < set.Count; index++)
        {
            PenTrace trace = traces[index];
            int length = StrokeEncoding.StepsOf(trace);
            var a = new float[length * StrokeEncoding.Features];
            var b = new float[a.Length];
            var c = new float[a.Length];
            augmentation.Encode(trace, seed: 5, epoch: 2, example: index, a);
            augmentation.Encode(trace, seed: 5, epoch: 2, example: index, b);
            augmentation.Encode(trace, seed: 5, epoch: 3, example: index, c);
            Assert.Equal(a, b); // the same draw for the same (seed, epoch, example)
            Assert.NotEqual(a, c);
            float[] clean = StrokeEncoding.Encode(trace);
            // The same points, strokes and ends; every point stays near the image (10° and 5 % move it a few pixels at most).
            Assert.Equal(clean.Where((_, k) => k % 4 >= 2).Sum(), a.Where((_, k) => k % 4 >= 2).Sum());
            float x = StrokeEncoding.OriginX, y = StrokeEncoding.OriginY;
            for (int t = 0; t < length; t++)
            {
                x += a[t * 4];
                y += a[t * 4 + 1];
                Assert.InRange(x, -4f, ImageSet.Width + 3f);
                Assert.InRange(y, -4f, ImageSet.Height + 3f);
                // Within a stroke a move stays about one pixel long, scaled by at most 1.05.
                if (t > 0 && a[(t - 1) * 4 + 2] == 0f)
                    Assert.InRange(MathF.Sqrt(a[t * 4] * a[t * 4] + a[t * 4 + 1] * a[t * 4 + 1]), 0.9f, 1.5f);
            }
            if (trace.Strokes > 1)
            {
                multiStroke++;
                // A reordered path starts its first stroke at a point that is not the clean path's first stroke's ends.
                reordered += FirstStrokeDiffers(trace, a) ? 1 : 0;
            }
            reversedSomewhere += Math.Abs(a[0] - clean[0]) > 4 || Math.Abs(a[1] - clean[1]) > 4 ? 1 : 0;
        }
        Assert.InRange(reordered, 1, multiStroke - 1);
        Assert.InRange(reversedSomewhere, 1, set.Count - 1);
    }

    private static bool FirstStrokeDiffers(PenTrace trace, float[] steps)
    {
        int end = trace.StrokeEnds[0];
        int firstEnd = 0;
        while (steps[firstEnd * 4 + 2] == 0f)
            firstEnd++;
        return firstEnd + 1 != end;
    }

    [Fact]
    public void TheStrokesRecipeTrainsOnPenPaths()
    {
        ImageSet images = DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory).Train.Take(1000);
        var options = Recipe.Strokes.Options with { Epochs = 3, BatchSize = 25, Threads = 2 };
        using var trainer = new Trainer(options, images, Subset.Value);
        Assert.Equal(SequenceView.Strokes, trainer.Sequence.View);
        Assert.Equal(StrokeEncoding.Features, trainer.Model.Config.InputSize);
        TrainingResult result = trainer.Fit();
        Assert.True(result.Test!.Accuracy > 0.4, $"test accuracy {result.Test.Accuracy} after 3 epochs on 1,000 paths"); // chance is 0.1
        float[] probabilities = Predictor.Probabilities(trainer.Model, trainer.Sequence, Subset.Value.Image(0));
        Assert.Equal(1f, probabilities.Sum(), 3);
    }

    [Fact]
    public void AReadingTraceOfStrokesRunsForThePathsOwnSteps()
    {
        SequenceLayout strokes = SequenceLayout.Create(SequenceView.Strokes);
        var model = Smnist.Nn.SequenceClassifier<float>.Initialize(new Smnist.Nn.ModelConfig(strokes.Features, 16, 1), seed: 3);
        var trace = new ReadingTrace(model, strokes);
        ReadOnlySpan<byte> image = Subset.Value.Image(0);
        trace.Read(image);
        PenTrace pen = Assert.IsType<PenTrace>(trace.Pen);
        Assert.Equal(StrokeEncoding.StepsOf(pen), trace.Steps);
        Assert.Equal(Predictor.Probabilities(model, strokes, image), trace.Probabilities.ToArray());
    }
}
