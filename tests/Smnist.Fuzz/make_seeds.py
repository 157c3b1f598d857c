"""Writes the seed corpus of each fuzz target into corpus/<target>/ (run with Debian's python3, which has PIL).

Seeds are small valid files of each kind, so mutations start from inputs that reach deep into each parser.
"""
import gzip
import io
import json
import pathlib
import struct

from PIL import Image

HERE = pathlib.Path(__file__).parent / "corpus"


def write(target, name, data):
    folder = HERE / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def safetensors(tensors, metadata=None):
    header, offset, body = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        data = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        body += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def model_tensors(inputs, hidden, layers=1, classes=10):
    tensors = []
    for layer in range(layers):
        columns = hidden + (inputs if layer == 0 else hidden)
        for gate in ("forget", "input", "output", "candidate"):
            tensors.append((f"lstm.{layer}.{gate}.weight", [hidden, columns], [0.01 * k for k in range(hidden * columns)]))
        for gate in ("forget", "input", "output", "candidate"):
            tensors.append((f"lstm.{layer}.{gate}.bias", [hidden], [0.5] * hidden))
    tensors.append(("readout.weight", [classes, hidden], [0.1] * (classes * hidden)))
    tensors.append(("readout.bias", [classes], [0.0] * classes))
    return tensors


def model_metadata(inputs, hidden, layers, sequence):
    return {"format": "smnist-lstm", "input_size": str(inputs), "hidden_size": str(hidden), "layers": str(layers),
            "classes": "10", "sequence": sequence, "steps": str(784 // inputs)}


# safetensors: a model with metadata, one without (sizes from the shapes), a pixel model, and a run checkpoint.
write("safetensors", "model-rows", safetensors(model_tensors(28, 1), model_metadata(28, 1, 1, "rows")))
write("safetensors", "model-bare", safetensors(model_tensors(28, 1)))
write("safetensors", "model-pixels-2layers", safetensors(model_tensors(1, 1, 2), model_metadata(1, 1, 2, "pixels")))
count = sum(len(values) for _, _, values in model_tensors(28, 1))
state = dict(model_metadata(28, 1, 1, "rows"))
state.update({"checkpoint.format": "2", "adam.step": "3", "trainer.epoch": "0", "trainer.batch": "3",
              "trainer.epoch_loss_sum": "6.9", "trainer.epoch_loss_count": "3", "trainer.train_seconds": "0.1",
              "trainer.history": "[]", "trainer.options": json.dumps({"Epochs": 1, "BatchSize": 2, "Hidden": 1, "Layers": 1, "Threads": 1})})
write("safetensors", "run-checkpoint", safetensors(
    [("weights", [count], [0.01] * count), ("adam.exp_avg", [count], [0.0] * count), ("adam.exp_avg_sq", [count], [0.0] * count)], state))


def idx_images(count):
    pixels = bytes((k * 37) % 256 for k in range(count * 784))
    return struct.pack(">iiii", 0x803, count, 28, 28) + pixels


def idx_labels(count):
    return struct.pack(">ii", 0x801, count) + bytes(k % 10 for k in range(count))


for target in ("idx", "idx-gzip"):
    write(target, "images-2", idx_images(2))
    write(target, "labels-5", idx_labels(5))
    write(target, "images-0", idx_images(0))
write("idx", "images-2.gz", gzip.compress(idx_images(2), mtime=0))
write("idx", "labels-5.gz", gzip.compress(idx_labels(5), mtime=0))


def digit(size):
    image = Image.new("L", (size, size), 255)
    for y in range(size // 5, size - size // 5):
        image.putpixel((size // 2, y), 0)
        image.putpixel((size // 2 + 1, y), 0)
    return image


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


write("image", "grey.png", encoded(digit(16), "PNG"))
write("image", "rgba.png", encoded(digit(12).convert("RGBA"), "PNG"))
write("image", "baseline.jpg", encoded(digit(16), "JPEG", quality=80))
write("image", "progressive.jpg", encoded(digit(16).convert("RGB"), "JPEG", quality=80, progressive=True))
exif = Image.Exif()
exif[0x0112] = 6
write("image", "exif-rotated.jpg", encoded(digit(16), "JPEG", quality=80, exif=exif.tobytes()))


# Sequence files: JSON Lines labelled per sequence, per step and not at all; .ts files univariate of equal length,
# multivariate of unequal length with class names, and unlabelled.
write("jsonl", "per-sequence.jsonl", b'{"label": 1, "steps": [[0.5, -1], [2e-3, 4]]}\n{"label": 0, "steps": [[1, 2]], "id": "x"}\n')
write("jsonl", "per-step.jsonl", b'{"labels": [0, -1, 2], "steps": [[0.1], [0.2], [0.3]]}\r\n\r\n{"labels": [1], "steps": [[1.5]]}')
write("jsonl", "unlabelled.jsonl", b'\xef\xbb\xbf{"steps": [[1, 2, 3], [4, 5, 6]]}\n')
write("ts", "univariate.ts", b"# comment\n@problemName P\n@timeStamps false\n@missing false\n@univariate true\n"
      b"@equalLength true\n@seriesLength 3\n@classLabel true 1 2\n@data\n1.0,2.5,-3:1\n0,0,1e-3:2\n")
write("ts", "multivariate-unequal.ts", b"@problemName Q\n@univariate false\n@dimensions 2\n@equalLength false\n"
      b"@classLabel true up down flat\n@data\n1,2,3:4,5,6:up\n7,8:9,10:down\n\n0.5:0.25:flat\n")
write("ts", "unlabelled.ts", b"%old-style comment\n@univariate true\n@equalLength false\n@classLabel false\n@data\n1,2,3\n4\n")
