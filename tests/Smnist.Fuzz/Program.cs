using SharpFuzz;
using Smnist.Fuzz;

// smnist-fuzz TARGET: runs one target under afl-fuzz (SharpFuzz's fork server), or once on stdin without it.
// See README.md in this folder for instrumenting the assemblies and starting afl-fuzz.
if (args.Length != 1 || !FuzzTargets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.Error.WriteLine($"usage: Smnist.Fuzz {string.Join("|", FuzzTargets.All.Keys)}  (input on stdin)");
    return 2;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
