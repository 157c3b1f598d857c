"""Writes tests/Smnist.Tests/Fixtures/affine/affine_cases.json: torchvision's affine warp of 28x28 images.

Each case warps a source image with torchvision.transforms.functional.affine on the PIL "L" image, exactly as the
seed's RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.95, 1.05)) does for MNIST (nearest neighbour,
fill 0, default centre, no shear). Cases: fixed parameters, parameters drawn by RandomAffine.get_params with the
seed's ranges, and draws from wider ranges that stress the warp. Smnist's Augmentation.Warp must reproduce every
output byte for byte. Needs Debian's python3-torchvision (run with /usr/bin/python3); CI only reads the JSON.

Usage: /usr/bin/python3 tools/reference/affine_fixtures.py tests/Smnist.Tests/Fixtures/mnist/t10k-images-idx3-ubyte.gz \
           tests/Smnist.Tests/Fixtures/affine/affine_cases.json
"""
import base64
import gzip
import json
import struct
import sys

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms.functional as F
from PIL import Image
from torchvision.transforms import RandomAffine

FIXED = [  # (angle, tx, ty, scale)
    (0.0, 0, 0, 1.0),
    (0.0, 1, -1, 1.0),
    (0.0, -3, 2, 1.0),
    (0.0, 0, 0, 0.95),
    (0.0, 0, 0, 1.05),
    (0.0, 1, 1, 0.97),
    (10.0, 0, 0, 1.0),
    (-10.0, 0, 0, 1.0),
    (5.0, 1, 0, 1.02),
    (-7.5, 0, -1, 0.96),
    (10.0, 1, 1, 1.05),
    (-10.0, -1, -1, 0.95),
    (45.0, 0, 0, 1.0),
    (90.0, 0, 0, 1.0),
    (-90.0, 2, 0, 1.0),
    (180.0, 0, 0, 1.0),
    (30.0, 3, -2, 1.3),
    (-25.0, -4, 5, 0.7),
]
SEED_RANGES = dict(degrees=[-10.0, 10.0], translate=[0.05, 0.05], scale_ranges=[0.95, 1.05])
WIDE_RANGES = dict(degrees=[-45.0, 45.0], translate=[0.2, 0.2], scale_ranges=[0.6, 1.4])


def read_images(path, count):
    with gzip.open(path, "rb") as f:
        magic, total, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803 and rows == 28 and cols == 28 and total >= count
        return [np.frombuffer(f.read(784), dtype=np.uint8).reshape(28, 28) for _ in range(count)]


def source_images(mnist_path):
    images = read_images(mnist_path, 6)
    rng = np.random.RandomState(1234)
    images.append(rng.randint(1, 256, size=(28, 28)).astype(np.uint8))  # noise: any wrong source pixel shows
    images.append((np.arange(784) % 251 + 1).astype(np.uint8).reshape(28, 28))  # every pixel nearly unique
    return images


def warp(image, angle, tx, ty, scale):
    out = F.affine(Image.fromarray(image, mode="L"), angle=angle, translate=[tx, ty], scale=scale, shear=[0.0, 0.0],
                   interpolation=F.InterpolationMode.NEAREST, fill=0)
    return np.asarray(out, dtype=np.uint8)


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def main():
    mnist_path, out_path = sys.argv[1], sys.argv[2]
    images = source_images(mnist_path)
    cases = []
    for i, (angle, tx, ty, scale) in enumerate(FIXED):
        for image_index in range(len(images)) if i % 3 == 0 else (i % len(images), 6, 7):
            cases.append(("fixed", image_index, angle, tx, ty, scale))
    torch.manual_seed(0)
    for kind, ranges, n in (("seed", SEED_RANGES, 240), ("wide", WIDE_RANGES, 120)):
        for i in range(n):
            angle, (tx, ty), scale, _ = RandomAffine.get_params(shears=None, img_size=[28, 28], **ranges)
            cases.append((kind, i % len(images), angle, tx, ty, scale))
    document = {
        "generator": f"torchvision {torchvision.__version__}, torch {torch.__version__}, Pillow {PIL.__version__}",
        "images": [b64(image) for image in images],
        "cases": [
            {"kind": kind, "image": image_index, "angle": float(angle), "tx": int(tx), "ty": int(ty),
             "scale": float(scale), "expected": b64(warp(images[image_index], angle, tx, ty, scale))}
            for kind, image_index, angle, tx, ty, scale in cases
        ],
    }
    with open(out_path, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
