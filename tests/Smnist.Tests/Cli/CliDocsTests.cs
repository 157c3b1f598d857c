using System.Text.RegularExpressions;

namespace Smnist.Tests.Cli;

/// <summary>docs/cli.md promises every command and option: checked against the real <c>--help</c>, so a new option fails here until it is documented.</summary>
[Trait("Category", "command")]
public sealed partial class CliDocsTests
{
    [Fact]
    public void EveryCommandAndOptionInHelpIsInCliMd()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "cli.md"));
        string[] commands = HelpEntries(CliHarness.Succeeds("--help").Out, "Commands:", CommandName());
        Assert.Contains("train", commands);

        var missing = new List<string>();
        foreach (string command in commands)
        {
            string? section = Section(docs, $"## `smnist {command}`");
            if (section is null)
            {
                missing.Add($"smnist {command} (no section)");
                continue;
            }
            foreach (string option in HelpEntries(CliHarness.Succeeds(command, "--help").Out, "Options:", OptionName()))
            {
                if (option is not ("--help" or "--verbose") && !section.Contains($"`{option}", StringComparison.Ordinal))
                    missing.Add($"smnist {command} {option}");
            }
        }
        Assert.True(missing.Count == 0, "docs/cli.md lacks: " + string.Join(", ", missing));
    }

    /// <summary>The names in one block of help output (the lines under <paramref name="heading"/> up to a blank line).</summary>
    private static string[] HelpEntries(string help, string heading, Regex name)
    {
        var names = new List<string>();
        bool inBlock = false;
        foreach (string line in help.Split('\n'))
        {
            if (line.TrimEnd() == heading)
            {
                inBlock = true;
                continue;
            }
            if (!inBlock)
                continue;
            if (line.Trim().Length == 0)
                break;
            Match match = name.Match(line);
            if (match.Success)
                names.Add(match.Groups[1].Value);
        }
        return [.. names];
    }

    /// <summary>The text from <paramref name="heading"/> to the next second-level heading, or null if it is not there.</summary>
    private static string? Section(string docs, string heading)
    {
        int start = docs.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        if (start < 0)
            return null;
        int end = docs.IndexOf("\n## ", start + heading.Length + 1, StringComparison.Ordinal);
        return end < 0 ? docs[start..] : docs[start..end];
    }

    private static string RepositoryRoot()
    {
        string? folder = AppContext.BaseDirectory;
        while (folder is not null && !File.Exists(Path.Combine(folder, "smnist.slnx")))
            folder = Path.GetDirectoryName(folder);
        return folder ?? throw new InvalidOperationException("the repository root was not found");
    }

    // "  train            Train an LSTM ..." -> train
    [GeneratedRegex(@"^  ([a-z]+)\b")]
    private static partial Regex CommandName();

    // "  --batch-size <N>   ..." or "  -?, -h, --help   ..." -> the long name
    [GeneratedRegex(@"^  (?:-\S+, )*(--[a-z][a-z-]*)")]
    private static partial Regex OptionName();
}
