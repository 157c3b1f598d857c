using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary>
/// Option factories that validate in the parser, so a bad value is a parse error (one line, exit 2) and the
/// accepted range shows in --help. Values are nullable: null means "not given", which lets a recipe fill it in.
/// </summary>
internal static class CliOptions
{
    /// <summary>A number in <paramref name="range"/>; the range and the default (text, as recipes decide some) go in the help.</summary>
    public static Option<T?> Number<T>(string name, string helpName, string description, OptionRange<T> range, string? defaultText = null)
        where T : struct, INumber<T>, IMinMaxValue<T> =>
        Number(name, helpName, description, range.Min, range.Max, defaultText);

    /// <summary>A number in [min, max]; the range and the default (text, as recipes decide some) go in the help.</summary>
    public static Option<T?> Number<T>(string name, string helpName, string description, T min, T max, string? defaultText = null)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        bool integral = typeof(T) != typeof(float) && typeof(T) != typeof(double);
        string kind = integral ? "an integer" : "a number";
        string range = max == T.MaxValue ? $"at least {Format(min)}" : $"{Format(min)} to {Format(max)}";
        return new Option<T?>(name)
        {
            HelpName = helpName,
            Description = defaultText is null ? $"{description} [{range}]" : $"{description} [{range}; {defaultText}]",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                var style = integral ? NumberStyles.Integer : NumberStyles.Float;
                if (T.TryParse(token, style, CultureInfo.InvariantCulture, out T value) && value >= min && value <= max)
                    return value;
                // A whole number too large for the type is out of range above, not "below the minimum".
                bool tooLarge = integral && BigInteger.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out BigInteger big) && big > BigInteger.CreateTruncating(max);
                string bound = tooLarge || max != T.MaxValue ? $"between {Format(min)} and {Format(max)}" : $"at least {Format(min)}";
                result.AddError($"{name} must be {kind} {bound} (got '{token}')");
                return null;
            },
        };
    }

    /// <summary>
    /// One of a fixed set of names (case-insensitive), mapped to a value; <paramref name="aliases"/> are former
    /// names, still accepted but not shown.
    /// </summary>
    public static Option<T?> Choice<T>(string name, string description, IReadOnlyDictionary<string, T> choices, IReadOnlyDictionary<string, T>? aliases = null)
        where T : struct
    {
        string names = string.Join("|", choices.Keys);
        return new Option<T?>(name)
        {
            HelpName = names,
            Description = description,
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                foreach (var (key, value) in aliases is null ? choices : choices.Concat(aliases))
                {
                    if (string.Equals(key, token, StringComparison.OrdinalIgnoreCase))
                        return value;
                }
                result.AddError($"{name} must be one of {string.Join(", ", choices.Keys)} (got '{token}')");
                return null;
            },
        };
    }

    /// <summary>A flag (no value).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>A path, which must not be empty; existence is checked where it is used, so the message can say what the file was for.</summary>
    public static Option<string?> Path(string name, string helpName, string description) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!string.IsNullOrWhiteSpace(token))
                    return token;
                result.AddError($"{name} needs a path, not an empty string");
                return null;
            },
        };

    /// <summary>Makes an empty path among <paramref name="paths"/> a parse error, as <see cref="Path"/> does for an option.</summary>
    public static void RequireNonEmptyPaths(Argument<string[]> paths) =>
        paths.Validators.Add(result =>
        {
            if (result.Tokens.Any(token => string.IsNullOrWhiteSpace(token.Value)))
                result.AddError($"{paths.Name} needs a path, not an empty string");
        });

    private static string Format<T>(T value) where T : INumber<T> =>
        (value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value.ToString()!).ToLowerInvariant();
}
