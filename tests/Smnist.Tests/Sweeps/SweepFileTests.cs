using System.Text.Json.Nodes;
using Smnist.Cli.Sweeps;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Sweeps;

/// <summary>A sweep file's expansion into numbered runs, and its refusals, which come before anything runs.</summary>
[Trait("Category", "command")]
public sealed class SweepFileTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    private string Write(string json, string name = "sweep.json")
    {
        string path = _directory[name];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void GridKeysExpandInFileOrderWithSeedsInnermost()
    {
        Sweep sweep = Sweep.Load(Write("""
            {"name": "order", "out": "out", "base": {"epochs": 2, "recipe": "best"},
             "grid": {"lr": [0.01, 2e-3], "hidden": [16, 24]}, "seeds": [7, 1]}
            """));

        Assert.Equal(8, sweep.Runs.Count);
        Assert.Equal(["lr", "hidden"], sweep.VariedKeys);
        Assert.Equal(Enumerable.Range(0, 8), sweep.Runs.Select(r => r.Index));
        Assert.Equal(
            [
                "lr=0.01,hidden=16,seed=7", "lr=0.01,hidden=16,seed=1", "lr=0.01,hidden=24,seed=7", "lr=0.01,hidden=24,seed=1",
                "lr=2e-3,hidden=16,seed=7", "lr=2e-3,hidden=16,seed=1", "lr=2e-3,hidden=24,seed=7", "lr=2e-3,hidden=24,seed=1",
            ],
            sweep.Runs.Select(r => r.Folder));
        Assert.Equal(["lr=0.01,hidden=16", "lr=0.01,hidden=24", "lr=2e-3,hidden=16", "lr=2e-3,hidden=24"], sweep.Configurations);
        Assert.Equal(["7", "1"], sweep.Runs.Take(2).Select(r => r.Seed));
        // Base first, then the configuration, then the seed; each key as train's option.
        Assert.Equal(["--epochs", "2", "--recipe", "best", "--lr", "2e-3", "--hidden", "24", "--seed", "1"], sweep.Runs[7].TrainArguments);
    }

    [Fact]
    public void RelativePathsAreTakenFromTheSweepFilesFolderNotTheCurrentOne()
    {
        string path = Write("""{"out": "../results", "base": {"data_dir": "data", "init": "w/model.safetensors"}}""", Path.Combine("a", "b", "sweep.json"));
        Sweep sweep = Sweep.Load(path);

        Assert.Equal(Path.Combine(_directory.Path, "a", "results"), sweep.OutDirectory);
        Assert.Equal("sweep", sweep.Name);
        SweepRun run = Assert.Single(sweep.Runs);
        Assert.Equal(Path.Combine(_directory.Path, "a", "results", "run"), run.Directory);
        Assert.Equal(
            ["--data-dir", Path.Combine(_directory.Path, "a", "b", "data"), "--init", Path.Combine(_directory.Path, "a", "b", "w", "model.safetensors")],
            run.TrainArguments);
    }

    [Fact]
    public void ListedRunsLayerOverBaseAndSwitchesBecomeFlags()
    {
        Sweep sweep = Sweep.Load(Write("""
            {"out": "o", "base": {"hidden": 16, "augment": true},
             "runs": [{"augment": false, "shuffle": false}, {"hidden": 32, "augment_test": true}], "seeds": [1]}
            """));

        Assert.Equal(["augment=false,shuffle=false,seed=1", "hidden=32,augment_test=true,seed=1"], sweep.Runs.Select(r => r.Folder));
        Assert.Equal(["--hidden", "16", "--no-augment", "--no-shuffle", "--seed", "1"], sweep.Runs[0].TrainArguments);
        Assert.Equal(["--augment", "--hidden", "32", "--augment-test", "--seed", "1"], sweep.Runs[1].TrainArguments);
        Assert.Equal(["augment", "shuffle", "hidden", "augment_test"], sweep.VariedKeys);
    }

    [Fact]
    public void TheGateOptionsBecomeTrainOptions()
    {
        Sweep sweep = Sweep.Load(Write("""
            {"out": "o", "grid": {"gate_init": ["chrono", "uniform"], "refine_gate": [true, false]}, "seeds": [1]}
            """));

        Assert.Equal(4, sweep.Runs.Count);
        Assert.Contains(["--gate-init", "uniform", "--refine-gate", "--seed", "1"], sweep.Runs.Select(r => r.TrainArguments.ToArray()));
        Assert.Contains(["--gate-init", "chrono", "--no-refine-gate", "--seed", "1"], sweep.Runs.Select(r => r.TrainArguments.ToArray()));
    }

    [Theory]
    [InlineData("""{"out": "o", "base": {"hiden": 64}}""", "sweep.json: base.hiden: unknown key 'hiden' (the keys are config.json's: recipe, epochs,")]
    [InlineData("""{"out": "o", "grid": {"hidden": [64, 0]}}""", "sweep.json: grid.hidden[1]: --hidden must be an integer between 1 and 4096 (got '0')")]
    [InlineData("""{"out": "o", "base": {"epochs": "5"}}""", "sweep.json: base.epochs: 'epochs' must be a number, not \"5\"")]
    [InlineData("""{"out": "o", "base": {"epochs": 2.5}}""", "sweep.json: base.epochs: --epochs must be an integer")]
    [InlineData("""{"out": "o", "base": {"recipe": "bestest"}}""", "sweep.json: base.recipe: --recipe must be one of best, notebook, pixels, permuted, strokes (got 'bestest')")]
    [InlineData("""{"out": "o", "base": {"forget_bias": null}}""", "sweep.json: base.forget_bias: 'forget_bias' must be a number, not null")]
    [InlineData("""{"out": "o", "base": {"augment": "yes"}}""", "sweep.json: base.augment: 'augment' must be true or false")]
    [InlineData("""{"out": "o", "base": {"out": "x"}}""", "sweep.json: base.out: 'out' is the sweep's own")]
    [InlineData("""{"out": "o", "base": {"total_steps": 9}}""", "sweep.json: base.total_steps: 'total_steps' is recorded by smnist train, not set")]
    [InlineData("""{"out": "o", "seeds": [1, 2, 1]}""", "sweep.json: seeds[2] repeats the seed 1")]
    [InlineData("""{"out": "o", "seeds": [-1]}""", "sweep.json: seeds[0]: --seed must be an integer")]
    [InlineData("""{"out": "o", "base": {"seed": 3}, "seeds": [1]}""", "sweep.json: 'seed' is in base and 'seeds' is given: use one")]
    [InlineData("""{"out": "o", "grid": {"hidden": [8]}, "runs": [{}]}""", "sweep.json: 'grid' and 'runs' are both given")]
    [InlineData("""{"out": "o", "grid": {"hidden": []}}""", "sweep.json: grid.hidden must be a non-empty array of values")]
    [InlineData("""{"out": "o", "base": {"hidden": 8}, "grid": {"hidden": [8, 16]}}""", "sweep.json: 'hidden' is in both base and grid")]
    [InlineData("""{"out": "o", "runs": [{"hidden": 8}, {"hidden": 8}]}""", "sweep.json: runs[1] repeats runs[0]")]
    [InlineData("""{"base": {}}""", "sweep.json: 'out' is missing")]
    [InlineData("""{"out": "o", "seed": [1]}""", "sweep.json: unknown key 'seed' (a sweep file has name, out, base, grid, runs, seeds)")]
    [InlineData("""{"out": "o", "grid": {"init": ["a/m.safetensors", "b/m.safetensors"]}}""", "sweep.json: runs 0 and 1 would share the folder 'init=m.safetensors'")]
    [InlineData("""{"out": "o", "base": {"max_steps": 5, "epochs": 0}}""", "sweep.json: base.epochs: --epochs must be an integer between 1")]
    [InlineData("""{"out": "o",""", "sweep.json: not valid JSON")]
    public void BadKeysAndValuesAreRefusedInOneLineBeforeAnythingRuns(string json, string expected)
    {
        string path = Write(json);
        foreach (string command in (string[])["plan", "run", "task", "report"])
        {
            string[] args = command == "task" ? ["sweep", command, path, "--index", "0"] : ["sweep", command, path];
            CliHarness.Outcome outcome = CliHarness.Run(args);
            Assert.Equal(1, outcome.Exit);
            string line = Assert.Single(outcome.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: " + path.Replace("sweep.json", ""), line);
            Assert.Contains(expected, line);
            Assert.Equal("", outcome.Out);
        }
        Assert.False(Directory.Exists(_directory["o"]), "a refused sweep made its folder");
    }

    [Fact]
    public void EveryKeyOfARunsConfigJsonIsEitherSettableOrRecorded()
    {
        // The sweep's keys are config.json's: a key train adds or renames shows up here.
        string run = _directory["run"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--max-steps", "1", "--limit-train", "64", "--limit-test", "10", "--hidden", "8", "--out", run);
        var keys = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!.AsObject().Select(p => p.Key).ToHashSet();

        Assert.Equal(keys.Order(), SweepKeys.All.Concat(SweepKeys.Recorded).Order());
    }
}
