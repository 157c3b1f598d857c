using Smnist.Fuzz;

namespace Smnist.Tests.Fuzz;

/// <summary>
/// CI's share of the fuzzing (the long runs use AFL++, see tests/Smnist.Fuzz): every committed input — seeds and
/// the inputs that once crashed a parser — is replayed through its target, then a deterministic mutation pass
/// (fixed seed) feeds each target a few hundred damaged variants of its seeds. Any input must end in success or
/// in <see cref="SmnistException"/>; the targets let every other exception through, failing the test.
/// </summary>
[Trait("Category", "unit")]
public class FuzzCorpusTests
{
    private const int MutantsPerTarget = 400;

    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");

    public static TheoryData<string> Targets => new(FuzzTargets.All.Keys);

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryCommittedInputIsHandled(string target)
    {
        string[] inputs = Directory.GetFiles(Path.Combine(Corpus, target));
        Assert.NotEmpty(inputs);
        foreach (string input in inputs)
            Run(target, input, File.ReadAllBytes(input));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void DamagedVariantsOfTheSeedsAreHandled(string target)
    {
        byte[][] seeds = Directory.GetFiles(Path.Combine(Corpus, target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        var random = new Random(20261129);
        for (int k = 0; k < MutantsPerTarget; k++)
        {
            byte[] mutant = Mutate(seeds[k % seeds.Length], random);
            Run(target, $"mutant {k}", mutant);
        }
    }

    private static void Run(string target, string name, byte[] input)
    {
        try
        {
            FuzzTargets.All[target](input);
        }
        catch (Exception e)
        {
            Assert.Fail($"{target} on {name} ({Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}...): {e}");
        }
    }

    /// <summary>One to four of AFL's classic havoc moves: flip a bit, set a byte to a boundary value, overwrite a
    /// 32-bit field with a boundary value, cut the input short, duplicate or delete a block.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var data = new List<byte>(seed);
        int moves = random.Next(1, 5);
        for (int m = 0; m < moves && data.Count > 0; m++)
        {
            int at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = (byte)new[] { 0x00, 0x01, 0x7F, 0x80, 0xFF }[random.Next(5)];
                    break;
                case 2:
                    uint value = new[] { 0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 0x00989680u }[random.Next(6)];
                    for (int b = 0; b < 4 && at + b < data.Count; b++)
                        data[at + b] = (byte)(value >> (8 * (random.Next(2) == 0 ? b : 3 - b)));
                    break;
                case 3:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 4:
                    int length = Math.Min(random.Next(1, 64), data.Count - at);
                    data.InsertRange(random.Next(data.Count), data.GetRange(at, length));
                    break;
                default:
                    data.RemoveRange(at, Math.Min(random.Next(1, 16), data.Count - at));
                    break;
            }
        }
        return data.ToArray();
    }
}
