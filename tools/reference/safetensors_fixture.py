#!/usr/bin/env python3
"""Writes a reference safetensors file, independently of the C# writer, for the compatibility test.

The `safetensors` Python package is not installed here (Debian ships only python3-torch), so this follows the
format exactly as huggingface/safetensors' Rust `serialize` writes it: tensors sorted by dtype alignment, then
by name; a compact JSON header with `__metadata__` first; the header padded with spaces to a multiple of 8;
an 8-byte little-endian header length; then the raw little-endian data, contiguous, in header order.

Usage: python3 tools/reference/safetensors_fixture.py [OUTPUT_DIR]
(default tests/Smnist.Tests/Fixtures/safetensors). Values are simple formulas so the C# test can recompute them.
"""
import json
import os
import struct
import sys


def values(name, count):
    # Distinct, exactly representable float32 values per tensor: (i - count/2) / 8 + len(name).
    return [(i - count // 2) / 8.0 + len(name) for i in range(count)]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "Smnist.Tests", "Fixtures", "safetensors")
    os.makedirs(out_dir, exist_ok=True)

    shapes = {
        "readout.weight": [10, 4],
        "readout.bias": [10],
        "lstm.0.forget.weight": [4, 5],
        "lstm.0.forget.bias": [4],
        "scalar": [],
        "empty": [0, 3],
    }
    metadata = {"format": "pt", "note": "written by tools/reference/safetensors_fixture.py"}

    header = {"__metadata__": metadata}
    data = bytearray()
    for name in sorted(shapes):  # all F32: the Rust writer's order reduces to name order
        shape = shapes[name]
        count = 1
        for size in shape:
            count *= size
        begin = len(data)
        data += struct.pack("<%df" % count, *values(name, count))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [begin, len(data)]}

    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    path = os.path.join(out_dir, "reference.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        f.write(data)
    print(path)

    # Cross-check with PyTorch where it is installed: the data buffer read back as float32 tensors.
    try:
        import torch
    except ImportError:
        return
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    parsed = json.loads(raw[8:8 + n])
    buffer = raw[8 + n:]
    for name, shape in shapes.items():
        begin, end = parsed[name]["data_offsets"]
        tensor = torch.frombuffer(bytearray(buffer[begin:end]), dtype=torch.float32).reshape(shape) if end > begin \
            else torch.zeros(shape)
        expected = torch.tensor(values(name, tensor.numel()), dtype=torch.float32).reshape(shape)
        assert torch.equal(tensor, expected), name


if __name__ == "__main__":
    main()
