using System.Text.Json;
using Smnist.Data;

namespace Smnist.Tests.Data;

[Trait("Category", "unit")]
public class AugmentationTests
{
    private static readonly Lazy<AffineFixtures> Fixtures = new(AffineFixtures.Load);

    public static TheoryData<string> Kinds => ["fixed", "seed", "wide"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Warp_matches_torchvision_pixel_for_pixel(string kind)
    {
        AffineFixtures fixtures = Fixtures.Value;
        var cases = fixtures.Cases.Where(c => c.Kind == kind).ToList();
        Assert.NotEmpty(cases);
        byte[] warped = new byte[ImageSet.Pixels];
        var mismatches = new List<string>();

        foreach (AffineCase c in cases)
        {
            Augmentation.Warp(fixtures.Images[c.Image], warped, new AffineParameters(c.Angle, c.Tx, c.Ty, c.Scale));
            byte[] expected = Convert.FromBase64String(c.Expected);
            int differing = Enumerable.Range(0, ImageSet.Pixels).Count(i => warped[i] != expected[i]);
            if (differing > 0)
            {
                mismatches.Add($"angle {c.Angle:R} t=({c.Tx},{c.Ty}) scale {c.Scale:R} image {c.Image}: {differing} pixels");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} cases differ: {string.Join("; ", mismatches.Take(10))}");
    }

    [Fact]
    public void Identity_warp_copies_the_image()
    {
        byte[] source = Fixtures.Value.Images[0];
        byte[] warped = new byte[ImageSet.Pixels];

        Augmentation.Warp(source, warped, AffineParameters.Identity);

        Assert.Equal(source, warped);
    }

    [Fact]
    public void Draws_follow_the_seed_ranges_and_are_pure_functions_of_seed_epoch_position()
    {
        var draws = Enumerable.Range(0, 20_000).Select(p => Augmentation.Draw(42, 3, p)).ToList();

        Assert.All(draws, d =>
        {
            Assert.InRange(d.Angle, -10.0, 10.0);
            Assert.InRange(d.TranslateX, -1, 1);
            Assert.InRange(d.TranslateY, -1, 1);
            Assert.InRange(d.Scale, 0.95, 1.05);
        });
        // round(uniform(-1.4, 1.4)) is 0 with probability 1 / 2.8 and ±1 with 0.9 / 2.8 each.
        double zeroShare = draws.Count(d => d.TranslateX == 0) / (double)draws.Count;
        Assert.InRange(zeroShare, 0.34, 0.375);
        Assert.InRange(draws.Average(d => d.Angle), -0.2, 0.2);
        Assert.InRange(draws.Average(d => d.Scale), 0.999, 1.001);
        Assert.Equal(draws[123], Augmentation.Draw(42, 3, 123));
        Assert.NotEqual(draws[123], Augmentation.Draw(42, 4, 123));
        Assert.NotEqual(draws[123], Augmentation.Draw(43, 3, 123));
    }

    [Fact]
    public void Warp_rejects_wrong_sizes()
    {
        Assert.Throws<ArgumentException>(() => Augmentation.Warp(new byte[100], new byte[784], AffineParameters.Identity));
    }

    private sealed record AffineCase(string Kind, int Image, double Angle, int Tx, int Ty, double Scale, string Expected);

    private sealed record AffineFixtures(string Generator, byte[][] Images, List<AffineCase> Cases)
    {
        public static AffineFixtures Load()
        {
            string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "affine", "affine_cases.json");
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            byte[][] images = root.GetProperty("images").EnumerateArray().Select(i => Convert.FromBase64String(i.GetString()!)).ToArray();
            var cases = root.GetProperty("cases").EnumerateArray().Select(c => new AffineCase(
                c.GetProperty("kind").GetString()!,
                c.GetProperty("image").GetInt32(),
                c.GetProperty("angle").GetDouble(),
                c.GetProperty("tx").GetInt32(),
                c.GetProperty("ty").GetInt32(),
                c.GetProperty("scale").GetDouble(),
                c.GetProperty("expected").GetString()!)).ToList();
            return new AffineFixtures(root.GetProperty("generator").GetString()!, images, cases);
        }
    }
}
