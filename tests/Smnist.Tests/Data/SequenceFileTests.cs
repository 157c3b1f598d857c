using System.Globalization;
using System.Text;
using Smnist.Data;

namespace Smnist.Tests.Data;

/// <summary>The sequence-file readers (JSON Lines and .ts) on good files, on every bad case, and the source they make.</summary>
[Trait("Category", "unit")]
public class SequenceFileTests
{
    private static SequenceFile Read(string text, SequenceFileFormat format, int? classes = null) =>
        SequenceFile.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), format == SequenceFileFormat.Ts ? "f.ts" : "f.jsonl", format, classes);

    private static SequenceFile Jsonl(string text, int? classes = null) => Read(text, SequenceFileFormat.JsonLines, classes);

    private static SequenceFile Ts(string text, int? classes = null) => Read(text, SequenceFileFormat.Ts, classes);

    private const string TsHeader = "@problemName P\n@univariate false\n@equalLength false\n@classLabel true a b c\n@data\n";

    // ---- good files ----

    [Fact]
    public void JsonLinesMultivariateOfUnequalLengthWithOneLabelEach()
    {
        SequenceFile file = Jsonl("{\"label\": 2, \"steps\": [[1, 2], [3, 4.5], [-5e-1, 6]]}\n\n{\"id\": {\"x\": [1]}, \"steps\": [[7, 8]], \"label\": 0}\n");

        Assert.Equal((2, 3, 2, 3), (file.Count, file.Steps, file.Features, file.Classes));
        Assert.Equal([3, 1], [file.LengthOf(0), file.LengthOf(1)]);
        Assert.Equal([1f, 2, 3, 4.5f, -0.5f, 6], file.Sequence(0).ToArray());
        Assert.Equal([7f, 8], file.Sequence(1).ToArray());
        Assert.Equal([2, 0], [file.Label(0), file.Label(1)]);
        Assert.Equal([1, 3], [file.LineOf(0), file.LineOf(1)]);
        Assert.True(file.HasLabels);
        Assert.False(file.LabelsPerStep);
        Assert.Null(file.ClassNames);
        Assert.Throws<InvalidOperationException>(() => file.StepLabels(0).ToArray());
    }

    [Fact]
    public void JsonLinesUnivariateWithALabelPerStep()
    {
        // CRLF line ends, a byte order mark, and a last line without a newline.
        SequenceFile file = Jsonl("\uFEFF{\"labels\": [0, -1, 3], \"steps\": [[0.5], [1], [2]]}\r\n{\"steps\": [[4]], \"labels\": [1]}");

        Assert.True(file.LabelsPerStep);
        Assert.Equal((2, 3, 1, 4), (file.Count, file.Steps, file.Features, file.Classes));
        Assert.Equal([0, SequenceLabels.None, 3], file.StepLabels(0).ToArray());
        Assert.Equal([1], file.StepLabels(1).ToArray());
        Assert.Throws<InvalidOperationException>(() => file.Label(0));
    }

    [Fact]
    public void JsonLinesWithoutLabelsIsForPredictionOnly()
    {
        SequenceFile file = Jsonl("{\"steps\": [[1, 2, 3]]}\n");

        Assert.False(file.HasLabels);
        Assert.Equal(0, file.Classes);
        var error = Assert.Throws<SmnistException>(() => file.Fill([0], default, new float[3], new int[1]));
        Assert.Contains("has no labels", error.Message);
    }

    [Fact]
    public void ClassesAskedForOverrideTheHighestLabel()
    {
        Assert.Equal(2, Jsonl("{\"label\": 0, \"steps\": [[1]]}").Classes);
        Assert.Equal(7, Jsonl("{\"label\": 0, \"steps\": [[1]]}", classes: 7).Classes);
        SequenceFile widened = Jsonl("{\"label\": 4, \"steps\": [[1]]}").WithClasses(9);
        Assert.Equal((9, 4), (widened.Classes, widened.Label(0)));
        Assert.Contains("its labels need 5 classes, more than 3", Assert.Throws<SmnistException>(() => Jsonl("{\"label\": 4, \"steps\": [[1]]}").WithClasses(3)).Message);
    }

    [Fact]
    public void TsUnivariateOfEqualLengthMapsClassNamesInOrder()
    {
        SequenceFile file = Ts("# a comment\n% an old-style one\n@problemName P\n@timeStamps false\n@missing false\n@univariate true\n@equalLength true\n@seriesLength 3\n" +
            "@classLabel true 1 -1\n@data\n1.0,2.5,-3:-1\n 0 , 0 , 1e-3 :1\n");

        Assert.Equal((2, 3, 1, 2), (file.Count, file.Steps, file.Features, file.Classes));
        Assert.Equal(["1", "-1"], file.ClassNames!);
        Assert.Equal([1, 0], [file.Label(0), file.Label(1)]);
        Assert.Equal([1f, 2.5f, -3], file.Sequence(0).ToArray());
        Assert.Equal([0f, 0, 1e-3f], file.Sequence(1).ToArray());
        Assert.Equal([11, 12], [file.LineOf(0), file.LineOf(1)]);
        Assert.Equal(SequenceFileFormat.Ts, file.Format);
    }

    [Fact]
    public void TsMultivariateOfUnequalLengthIsTransposedToSteps()
    {
        SequenceFile file = Ts("@univariate false\n@dimensions 2\n@equalLength false\n@classLabel true Up Down\n@data\n1,2,3:4,5,6:up\n\n7:8:DOWN");

        Assert.Equal((2, 3, 2, 2), (file.Count, file.Steps, file.Features, file.Classes));
        Assert.Equal([1f, 4, 2, 5, 3, 6], file.Sequence(0).ToArray()); // (T, d): step after step
        Assert.Equal([7f, 8], file.Sequence(1).ToArray());
        Assert.Equal([0, 1], [file.Label(0), file.Label(1)]);
        Assert.Equal([3, 1], [file.LengthOf(0), file.LengthOf(1)]);
    }

    [Fact]
    public void TsWithoutClassLabelsIsForPredictionOnly()
    {
        SequenceFile file = Ts("@classLabel false\n@data\n1,2\n3\n");
        Assert.False(file.HasLabels);
        Assert.Equal((2, 2, 1), (file.Count, file.Steps, file.Features));
    }

    [Fact]
    public void BothFormatsReadTheSameSequencesAlike()
    {
        var random = new Random(5);
        var jsonl = new StringBuilder();
        var ts = new StringBuilder("@univariate false\n@dimensions 3\n@equalLength false\n@classLabel true zero one two\n@data\n");
        string[] names = ["zero", "one", "two"];
        for (int n = 0; n < 40; n++)
        {
            int length = random.Next(1, 30), label = random.Next(3);
            float[,] values = new float[length, 3];
            for (int t = 0; t < length; t++)
            {
                for (int f = 0; f < 3; f++)
                    values[t, f] = (float)Math.Round(random.NextDouble() * 10 - 5, 4);
            }
            jsonl.Append(CultureInfo.InvariantCulture, $"{{\"label\": {label}, \"steps\": [{string.Join(",", Enumerable.Range(0, length).Select(t => $"[{values[t, 0].ToString(CultureInfo.InvariantCulture)},{values[t, 1].ToString(CultureInfo.InvariantCulture)},{values[t, 2].ToString(CultureInfo.InvariantCulture)}]"))}]}}\n");
            ts.Append(string.Join(":", Enumerable.Range(0, 3).Select(f => string.Join(",", Enumerable.Range(0, length).Select(t => values[t, f].ToString(CultureInfo.InvariantCulture))))));
            ts.Append(':').Append(names[label]).Append('\n');
        }
        SequenceFile a = Jsonl(jsonl.ToString()), b = Ts(ts.ToString());

        Assert.Equal((a.Count, a.Steps, a.Features, a.Classes), (b.Count, b.Steps, b.Features, b.Classes));
        for (int n = 0; n < a.Count; n++)
        {
            Assert.Equal(a.Sequence(n).ToArray(), b.Sequence(n).ToArray());
            Assert.Equal(a.Label(n), b.Label(n));
        }
    }

    [Fact]
    public void LinesLongerThanAReadBlockAreReadWhole()
    {
        // One sequence of 30,000 steps (about 240 KB on one line) between two short ones: the line reader grows past its 64 KiB block.
        string longSteps = string.Join(",", Enumerable.Range(0, 30_000).Select(t => $"[{t % 97}]"));
        SequenceFile file = Jsonl($"{{\"label\": 0, \"steps\": [[1]]}}\n{{\"label\": 1, \"steps\": [{longSteps}]}}\n{{\"label\": 0, \"steps\": [[2]]}}\n");

        Assert.Equal([1, 30_000, 1], [file.LengthOf(0), file.LengthOf(1), file.LengthOf(2)]);
        Assert.Equal(29_999 % 97, file.Sequence(1)[^1]);
        Assert.Equal(2f, file.Sequence(2)[0]);
    }

    [Fact]
    public void ReadsAFileFromDiskAndNamesIt()
    {
        using var folder = new TemporaryDirectory();
        string path = folder.File("train.JSONL");
        File.WriteAllText(path, "{\"label\": 1, \"steps\": [[1]]}\n");
        SequenceFile file = SequenceFile.Read(path);
        Assert.Equal((path, SequenceFileFormat.JsonLines, 1), (file.Path, file.Format, file.Label(0)));
        Assert.Equal($"{folder.File("missing.ts")}: no such file", Assert.Throws<SmnistException>(() => SequenceFile.Read(folder.File("missing.ts"))).Message);
        Assert.Contains("not a sequence file; expected a .jsonl (JSON Lines) or .ts (sktime/aeon) file", Assert.Throws<SmnistException>(() => SequenceFile.Read(folder.File("data.csv"))).Message);
    }

    [Fact]
    public void MemoryFollowsTheFileSize()
    {
        // About 2 MB of typical values: what reading allocates in all (the values kept, one line and one sequence
        // at a time, the arrays of the source) stays within the documented bound of twice the file's size.
        var text = new StringBuilder();
        var random = new Random(3);
        while (text.Length < 2_000_000)
        {
            int length = random.Next(50, 400);
            text.Append("{\"label\": 1, \"steps\": [");
            text.AppendJoin(",", Enumerable.Range(0, length).Select(_ => $"[{random.NextDouble():F3},{random.NextDouble():F3}]"));
            text.Append("]}\n");
        }
        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        Jsonl("{\"label\": 0, \"steps\": [[1]]}"); // JIT and statics out of the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        SequenceFile file = SequenceFile.Read(new MemoryStream(bytes), "big.jsonl", SequenceFileFormat.JsonLines);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 2L * bytes.Length, $"reading {bytes.Length} bytes allocated {allocated}");
        Assert.True(file.Count > 100);
    }

    // ---- the source: the ragged contract of ISequenceSource.Fill ----

    [Fact]
    public void FillPadsShortExamplesWithZerosAndGivesOneLabelEach()
    {
        SequenceFile file = Jsonl("{\"label\": 1, \"steps\": [[1, 2]]}\n{\"label\": 2, \"steps\": [[3, 4], [5, 6], [7, 8]]}\n");
        var inputs = new float[3 * 2 * 2]; // (T, B, d)
        Array.Fill(inputs, 9f);
        var labels = new int[2];

        file.Fill([1, 0], default, inputs, labels);

        Assert.Equal([3f, 4, 1, 2, 5, 6, 0, 0, 7, 8, 0, 0], inputs);
        Assert.Equal([2, 1], labels);
        ISequenceSource source = file;
        Assert.Equal((3, 1), (source.LengthOf(1), source.LengthOf(0)));
    }

    [Fact]
    public void FillGivesPerStepLabelsTimeMajorWithNoneOnPadding()
    {
        SequenceFile file = Jsonl("{\"labels\": [1, 0, -1], \"steps\": [[1], [2], [3]]}\n{\"labels\": [2], \"steps\": [[4]]}\n");
        var inputs = new float[3 * 2];
        var labels = new int[3 * 2]; // (T, B)

        file.Fill([0, 1], default, inputs, labels);

        Assert.Equal([1f, 4, 2, 0, 3, 0], inputs);
        Assert.Equal([1, 2, 0, SequenceLabels.None, SequenceLabels.None, SequenceLabels.None], labels);
        Assert.True(((ISequenceSource)file).LabelsPerStep);
    }

    // ---- bad files: one line naming the file, the line and the problem ----

    [Theory]
    [InlineData("{\"label\": 0, \"steps\": [[1, 2], [3, 4, 5]]}", "f.jsonl: line 1: step 2 has 3 values, the steps before it 2")]
    [InlineData("{\"label\": 0, \"steps\": [[1, 2]]}\n{\"label\": 0, \"steps\": [[1, 2, 3]]}", "f.jsonl: line 2: its steps have 3 values each, those of line 1 have 2")]
    [InlineData("{\"label\": 0, \"steps\": []}", "f.jsonl: line 1: the sequence is empty")]
    [InlineData("{\"label\": 0, \"steps\": [[]]}", "f.jsonl: line 1: step 1 has no values")]
    [InlineData("{\"label\": 0, \"steps\": [[1], [NaN]]}", "f.jsonl: line 1: NaN at byte 30 is not a finite number")]
    [InlineData("{\"label\": 0, \"steps\": [[-Infinity]]}", "f.jsonl: line 1: -Infinity at byte 25 is not a finite number")]
    [InlineData("{\"label\": 0, \"steps\": [[1e39]]}", "f.jsonl: line 1: value 1 of step 1, 1e39, is not a finite 32-bit number")]
    [InlineData("{\"label\": 0, \"steps\": [[\"1\"]]}", "f.jsonl: line 1: value 1 of step 1 is not a number")]
    [InlineData("{\"label\": 0, \"steps\": [1, 2]}", "f.jsonl: line 1: step 1 is not an array of numbers")]
    [InlineData("{\"label\": 1.5, \"steps\": [[1]]}", "f.jsonl: line 1: the label, 1.5, is not an integer class")]
    [InlineData("{\"label\": \"cat\", \"steps\": [[1]]}", "f.jsonl: line 1: the label, \"cat\", is not an integer class")]
    [InlineData("{\"label\": -1, \"steps\": [[1]]}", "f.jsonl: line 1: the label, -1, is not a class in 0..65535")]
    [InlineData("{\"label\": 99999999999, \"steps\": [[1]]}", "f.jsonl: line 1: the label, 99999999999, is not an integer class")]
    [InlineData("{\"labels\": [0, -2], \"steps\": [[1], [2]]}", "f.jsonl: line 1: the label of step 2, -2, is not a class in 0..65535")]
    [InlineData("{\"labels\": [0], \"steps\": [[1], [2]]}", "f.jsonl: line 1: 1 labels for 2 steps")]
    [InlineData("{\"label\": 0, \"labels\": [0], \"steps\": [[1]]}", "f.jsonl: line 1: both \"label\" and \"labels\"")]
    [InlineData("{\"label\": 0, \"steps\": [[1]]}\n{\"labels\": [0], \"steps\": [[1]]}", "f.jsonl: line 2: it has a label per step, line 1 has one label for the sequence")]
    [InlineData("{\"label\": 0, \"steps\": [[1]]}\n{\"steps\": [[1]]}", "f.jsonl: line 2: it has no label, line 1 has one label for the sequence")]
    [InlineData("{\"label\": 0}", "f.jsonl: line 1: no \"steps\"")]
    [InlineData("{\"label\": 0, \"label\": 1, \"steps\": [[1]]}", "f.jsonl: line 1: \"label\" appears twice")]
    [InlineData("[[1, 2]]", "f.jsonl: line 1: not a JSON object")]
    [InlineData("{\"label\": 0, \"steps\": [[1]]} {}", "f.jsonl: line 1: not valid JSON at byte 30")]
    [InlineData("{\"label\": 0, \"steps\": [[1]]}\n{\"label\": 1, \"steps\": [[2], [3", "f.jsonl: line 2: the line ends before its JSON object does (the file ends inside this line: is it truncated?)")]
    [InlineData("{\"label\": 0, \"steps\": [[1]]\n", "f.jsonl: line 1: the line ends before its JSON object does")]
    [InlineData("\n  \n", "f.jsonl: holds no sequences")]
    public void BadJsonLinesAreRefusedNamingTheLine(string text, string expected)
    {
        var error = Assert.Throws<SmnistException>(() => Jsonl(text));
        Assert.StartsWith(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void JsonLinesLabelsMustBeBelowTheClassesAskedFor()
    {
        Assert.Equal("f.jsonl: line 2: the label, 3, is not a class in 0..2",
            Assert.Throws<SmnistException>(() => Jsonl("{\"label\": 0, \"steps\": [[1]]}\n{\"label\": 3, \"steps\": [[1]]}\n", classes: 3)).Message);
        Assert.Equal("f.jsonl: line 1: the label of step 1, 5, is not a class in 0..3",
            Assert.Throws<SmnistException>(() => Jsonl("{\"labels\": [5], \"steps\": [[1]]}\n", classes: 4)).Message);
        Assert.StartsWith("f.jsonl: 1 classes asked for", Assert.Throws<SmnistException>(() => Jsonl("{\"steps\": [[1]]}", classes: 1)).Message);
    }

    [Fact]
    public void SequencesLongerThanTheLimitAreRefused()
    {
        string steps = string.Join(",", Enumerable.Repeat("[0]", SequenceFile.MaxSteps + 1));
        Assert.Equal($"f.jsonl: line 1: the sequence is longer than {SequenceFile.MaxSteps} steps, the limit",
            Assert.Throws<SmnistException>(() => Jsonl($"{{\"label\": 0, \"steps\": [{steps}]}}\n")).Message);
        string series = string.Join(",", Enumerable.Repeat("0", SequenceFile.MaxSteps + 1));
        Assert.Equal($"f.ts: line 6: the sequence is longer than {SequenceFile.MaxSteps} steps, the limit",
            Assert.Throws<SmnistException>(() => Ts(TsHeader + series + ":a\n")).Message);
        // At the limit itself, a sequence reads.
        Assert.Equal(SequenceFile.MaxSteps, Jsonl($"{{\"label\": 0, \"steps\": [{string.Join(",", Enumerable.Repeat("[0]", SequenceFile.MaxSteps))}]}}").Steps);
    }

    [Theory]
    // The data against itself: ragged d, empty sequences, NaN, infinity, missing values, unknown classes.
    [InlineData(TsHeader + "1,2:3,4:a\n1,2:b\n", "f.ts: line 7: its steps have 1 values each, those of line 6 have 2")]
    [InlineData(TsHeader + "1,2,3:4,5:a\n", "f.ts: line 6: dimension 2 has 2 values, dimension 1 has 3")]
    [InlineData(TsHeader + ":a\n", "f.ts: line 6: dimension 1 is empty")]
    [InlineData(TsHeader + "1,,2:a\n", "f.ts: line 6: value 2 of dimension 1, '', is not a number")]
    [InlineData(TsHeader + "1,NaN:a\n", "f.ts: line 6: value 2 of dimension 1, 'NaN', is not a finite 32-bit number")]
    [InlineData(TsHeader + "1,2:3,-Infinity:a\n", "f.ts: line 6: value 2 of dimension 2, '-Infinity', is not a finite 32-bit number")]
    [InlineData(TsHeader + "1,3e38:3,4e38:a\n", "f.ts: line 6: value 2 of dimension 2, '4e38', is not a finite 32-bit number")]
    [InlineData(TsHeader + "1,?,3:a\n", "f.ts: line 6: value 2 of dimension 1 is missing ('?')")]
    [InlineData(TsHeader + "1,2,3:d\n", "f.ts: line 6: class label 'd' is not one of the @classLabel names (a, b, c)")]
    [InlineData(TsHeader + "1,2,3\n", "f.ts: line 6: no ':' before a class label")]
    [InlineData(TsHeader + "1,x,3:a\n", "f.ts: line 6: value 2 of dimension 1, 'x', is not a number")]
    [InlineData(TsHeader + "1,2:a\n1,2,3:", "f.ts: line 7: class label '' is not one of the @classLabel names (a, b, c) (the file ends inside this line: is it truncated?)")]
    // The header against the data.
    [InlineData("@univariate true\n@classLabel true a\n@data\n1,2:3,4:a\n", "f.ts: line 4: the case has 2 dimensions, but the header says @univariate true")]
    [InlineData("@dimensions 3\n@classLabel true a\n@data\n1,2:3,4:a\n", "f.ts: line 4: the case has 2 dimensions, the header's @dimensions says 3")]
    [InlineData("@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n1,2,3,4:a\n", "f.ts: line 6: the series has 4 values, the header's @seriesLength says 3")]
    [InlineData("@equalLength true\n@classLabel true a\n@data\n1,2,3:a\n\n1,2:a\n", "f.ts: line 6: the series has 2 values, line 4's 3, but the header says @equalLength true")]
    [InlineData("@univariate true\n@dimensions 2\n@classLabel true a\n@data\n", "f.ts: line 2: @univariate true, but @dimensions 2")]
    // The header alone.
    [InlineData("@problemName P\n@classLabel true a b\n", "f.ts: line 2: the file ends before its @data line")]
    [InlineData("@problemName P\n@data\n1:a\n", "f.ts: line 2: no @classLabel line before @data")]
    [InlineData("@timeStamps true\n@classLabel true a\n@data\n", "f.ts: line 1: @timeStamps true: timestamped .ts files are not read")]
    [InlineData("@targetLabel true\n@classLabel false\n@data\n", "f.ts: line 1: @targetLabel true: a regression file")]
    [InlineData("@equalLength maybe\n", "f.ts: line 1: @equalLength takes true or false")]
    [InlineData("@seriesLength 0\n", "f.ts: line 1: @seriesLength takes a whole number, at least 1")]
    [InlineData("@classLabel true\n", "f.ts: line 1: @classLabel true names no classes")]
    [InlineData("@classLabel true a b A\n", "f.ts: line 1: @classLabel names the class 'A' twice")]
    [InlineData("@data extra\n", "f.ts: line 1: @data takes no value")]
    [InlineData("1,2,3:a\n", "f.ts: line 1: expected a @ header line or a # comment before @data")]
    [InlineData("@classLabel true a\n@data\n\n", "f.ts: holds no sequences")]
    public void BadTsFilesAreRefusedNamingTheLine(string text, string expected)
    {
        var error = Assert.Throws<SmnistException>(() => Ts(text));
        Assert.StartsWith(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void TsClassNamesMustFitTheClassesAskedFor()
    {
        Assert.Equal(5, Ts(TsHeader + "1:a\n", classes: 5).Classes);
        Assert.Equal("f.ts: line 4: @classLabel names 3 classes, more than the 2 asked for",
            Assert.Throws<SmnistException>(() => Ts(TsHeader + "1:a\n", classes: 2)).Message);
    }
}
