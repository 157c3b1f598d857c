namespace Smnist;

/// <summary>
/// A problem the user can act on (a missing or corrupt file, an invalid setting). Its message is one line that
/// names the file or value and what is wrong; the command prints it without a stack trace.
/// </summary>
public class SmnistException : Exception
{
    /// <summary>A one-line <paramref name="message"/> about bad input.</summary>
    public SmnistException(string message) : base(message) { }

    /// <summary>A one-line <paramref name="message"/> about bad input, with its <paramref name="inner"/> cause.</summary>
    public SmnistException(string message, Exception inner) : base(message, inner) { }

    /// <summary><paramref name="text"/> on one line: line breaks and tabs become single spaces, as every message must be.</summary>
    internal static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
