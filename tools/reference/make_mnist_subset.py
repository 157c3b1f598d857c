"""Writes the MNIST subset committed under tests/Smnist.Tests/Fixtures/mnist/.

The first 2,000 training and 1,000 test images and their labels, as gzipped IDX files named like the originals,
so tests and end-to-end runs can use the folder as a --data-dir. Deterministic output (gzip mtime 0).

Usage: python3 tools/reference/make_mnist_subset.py /tmp/mnist tests/Smnist.Tests/Fixtures/mnist
where the first folder holds the four original uncompressed IDX files.
"""
import gzip
import os
import struct
import sys

SUBSETS = {"train": 2000, "t10k": 1000}


def write_subset(source_dir, target_dir, prefix, count):
    with open(os.path.join(source_dir, f"{prefix}-images-idx3-ubyte"), "rb") as f:
        magic, total, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803 and rows == 28 and cols == 28 and total >= count
        images = f.read(count * rows * cols)
    with open(os.path.join(source_dir, f"{prefix}-labels-idx1-ubyte"), "rb") as f:
        magic, total = struct.unpack(">II", f.read(8))
        assert magic == 0x801 and total >= count
        labels = f.read(count)
    write_gz(os.path.join(target_dir, f"{prefix}-images-idx3-ubyte.gz"),
             struct.pack(">IIII", 0x803, count, 28, 28) + images)
    write_gz(os.path.join(target_dir, f"{prefix}-labels-idx1-ubyte.gz"), struct.pack(">II", 0x801, count) + labels)


def write_gz(path, content):
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(content)


def main():
    source_dir, target_dir = sys.argv[1], sys.argv[2]
    os.makedirs(target_dir, exist_ok=True)
    for prefix, count in SUBSETS.items():
        write_subset(source_dir, target_dir, prefix, count)


if __name__ == "__main__":
    main()
