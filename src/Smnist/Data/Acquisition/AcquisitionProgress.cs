namespace Smnist.Data.Acquisition;

/// <summary>What acquisition is doing, for the command to show.</summary>
public enum AcquisitionStage
{
    /// <summary>A source is about to be tried for a file (or, for npm, for all missing files).</summary>
    Trying,

    /// <summary>Bytes of a file have arrived; <see cref="AcquisitionProgress.BytesTotal"/> is set when the size is known.</summary>
    Transferring,

    /// <summary>A file passed its MD5 check and is in the cache.</summary>
    Verified,

    /// <summary>A source failed for a file; <see cref="AcquisitionProgress.Detail"/> says why. The next source is tried.</summary>
    Failed,
}

/// <summary>One report from <see cref="DataAcquisition"/>: which file, from where, how far.</summary>
public readonly record struct AcquisitionProgress(
    AcquisitionStage Stage,
    string FileName,
    string Source,
    long BytesDone = 0,
    long? BytesTotal = null,
    string? Detail = null);
