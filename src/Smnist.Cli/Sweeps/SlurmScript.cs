using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Smnist.Cli.Sweeps;

/// <summary>The sbatch script of a sweep's job array, one task per run, and its submission.</summary>
internal static class SlurmScript
{
    /// <summary>The folder under the sweep's <c>out</c> that holds the script and the tasks' output.</summary>
    public const string FolderName = "slurm";

    /// <summary>The script's file name in <see cref="FolderName"/>.</summary>
    public const string FileName = "sweep.sbatch";

    /// <summary>
    /// The script: an array of <paramref name="indices"/>, requeued after a preemption or node failure, each task
    /// <c>smnist sweep task</c> — by <paramref name="program"/>, the command that runs this smnist, which must be on a
    /// file system the nodes share. <paramref name="time"/> adds SIGTERM two minutes before the limit, so a run
    /// that outlasts it saves a checkpoint first.
    /// </summary>
    public static string Create(Sweep sweep, IReadOnlyList<int> indices, IReadOnlyList<string> program, int cpus, string? partition, string? time)
    {
        string output = Path.Combine(sweep.OutDirectory, FolderName);
        var script = new StringBuilder();
        script.Append("#!/bin/bash\n");
        script.Append(CultureInfo.InvariantCulture, $"# smnist sweep {sweep.Name}: {indices.Count} of its {sweep.Runs.Count} runs, one array task each (written by smnist sweep submit)\n");
        script.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name={JobName(sweep.Name)}\n");
        script.Append(CultureInfo.InvariantCulture, $"#SBATCH --array={Ranges(indices)}\n");
        script.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={cpus}\n");
        if (partition is not null)
            script.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={partition}\n");
        if (time is not null)
        {
            script.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={time}\n");
            script.Append("#SBATCH --signal=B:TERM@120\n");
        }
        script.Append("#SBATCH --requeue\n");
        // A requeued task appends to its first session's output rather than replacing it.
        script.Append("#SBATCH --open-mode=append\n");
        script.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={output}/%A_%a.out\n");
        // exec: smnist itself receives the SIGTERM Slurm sends before a requeue, saves a checkpoint and exits;
        // the requeued task's `sweep task` resumes it.
        string[] task = [.. program, "sweep", "task", sweep.File, "--index"];
        script.Append(CultureInfo.InvariantCulture, $"exec {string.Join(' ', task.Select(Cli.ShellWord))} \"$SLURM_ARRAY_TASK_ID\" --threads {cpus}\n");
        return script.ToString();
    }

    /// <summary>Submits <paramref name="scriptPath"/> with <c>sbatch --parsable</c>; returns the job id.</summary>
    public static string Submit(string scriptPath)
    {
        var start = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--parsable");
        start.ArgumentList.Add(scriptPath);
        Process sbatch;
        try
        {
            sbatch = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SmnistException($"cannot run sbatch ({e.Message}): submit from a Slurm login node, or see the script with --dry-run", e);
        }
        using (sbatch)
        {
            Task<string> error = sbatch.StandardError.ReadToEndAsync();
            string output = sbatch.StandardOutput.ReadToEnd();
            sbatch.WaitForExit();
            if (sbatch.ExitCode != 0)
                throw new SmnistException($"sbatch {scriptPath} failed (exit {sbatch.ExitCode}): {SmnistException.OneLine(error.Result)}");
            // --parsable prints "jobid" or "jobid;cluster".
            return output.Trim().Split(';')[0];
        }
    }

    /// <summary>"0-3,5,7-9": Slurm's array syntax for ascending indices.</summary>
    public static string Ranges(IReadOnlyList<int> indices)
    {
        var parts = new List<string>();
        for (int i = 0; i < indices.Count;)
        {
            int j = i;
            while (j + 1 < indices.Count && indices[j + 1] == indices[j] + 1)
                j++;
            parts.Add(j == i ? indices[i].ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{indices[i]}-{indices[j]}"));
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    private static string JobName(string name) => "smnist-" + new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
}
