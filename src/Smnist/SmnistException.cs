namespace Smnist;

/// <summary>
/// A problem the user can act on (a missing or corrupt file, an invalid setting). Its message is one line that
/// names the file or value and what is wrong; the command prints it without a stack trace.
/// </summary>
public class SmnistException : Exception
{
    public SmnistException(string message) : base(message) { }

    public SmnistException(string message, Exception inner) : base(message, inner) { }
}
