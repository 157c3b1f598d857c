using System.Runtime.CompilerServices;

namespace Smnist.Kernels;

/// <summary>
/// A float buffer on the pinned object heap whose first element is 64-byte aligned, so packed panels fill whole
/// cache lines and vector loads never split one. The pointer stays valid for the buffer's lifetime.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    private const int AlignmentFloats = 16; // 64 bytes

    private readonly float[] _storage;

    public AlignedBuffer(int length)
    {
        _storage = GC.AllocateArray<float>(length + AlignmentFloats, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref _storage[0]);
        Pointer = (float*)((address + (AlignmentFloats * sizeof(float) - 1)) & ~(nint)(AlignmentFloats * sizeof(float) - 1));
    }

    public float* Pointer { get; }
}
