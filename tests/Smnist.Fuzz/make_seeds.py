"""Writes the seed corpus of each fuzz target into corpus/<target>/ (run with Debian's python3, which has PIL).

Seeds are small valid files of each kind, so mutations start from inputs that reach deep into each parser.
"""
import gzip
import io
import json
import pathlib
import struct
import zlib

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


def png(width, height, image_data):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(image_data, 9)) + chunk(b"IEND", b"")


def jpeg_scan_bomb(width, height, ac_scans):
    """A grey progressive JPEG: one DC scan, then AC scans that only say "every block ends here" (EOB runs)."""
    def segment(marker, data):
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    class Bits:
        def __init__(self):
            self.out, self.byte, self.count = bytearray(), 0, 0

        def write(self, value, length):
            for k in range(length - 1, -1, -1):
                self.byte = (self.byte << 1) | ((value >> k) & 1)
                self.count += 1
                if self.count == 8:
                    self.out.append(self.byte)
                    if self.byte == 0xFF:
                        self.out.append(0)
                    self.byte = self.count = 0

        def flush(self):
            while self.count:
                self.write(1, 1)

    one_code = bytes([1] + [0] * 15)
    data = b"\xff\xd8" + segment(0xDB, bytes([0]) + bytes([1] * 64))
    data += segment(0xC2, struct.pack(">BHHBBBB", 8, height, width, 1, 1, 0x11, 0))
    data += segment(0xC4, b"\x00" + one_code + b"\x00") + segment(0xC4, b"\x10" + one_code + b"\xe0")
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = Bits()
    data += segment(0xDA, bytes([1, 1, 0, 0, 0, 0]))
    bits.write(0, blocks)
    bits.flush()
    data += bytes(bits.out)
    for _ in range(ac_scans):
        bits.out = bytearray()
        data += segment(0xDA, bytes([1, 1, 0, 1, 63, 0]))
        for _ in range(0, blocks, 32767):
            bits.write(0, 1)
            bits.write(0x3FFF, 14)
        bits.flush()
        data += bytes(bits.out)
    return data + b"\xff\xd9"


# The bounds on the decoders' work: image data that inflates past its header's size, and scans past the limit
# (ImageFile.MaxJpegScans); each beside an input just within its bound.
write("image", "png-inflate-bomb.png", png(1, 1, bytes(1 << 20)))
write("image", "png-inflate-exact.png", png(2, 2, bytes(2 * 3)))
write("image", "jpeg-scan-bomb.jpg", jpeg_scan_bomb(64, 64, 150))
write("image", "jpeg-scans-at-limit.jpg", jpeg_scan_bomb(16, 16, 99))

# png-data: three bytes (width - 1, height - 1, pixel format and interlacing; see FuzzTargets.PngImageData), then
# the image data, here of exactly the size the header implies: 16×16 grey 8-bit (16 rows of 1 + 16 bytes), the same
# interlaced (Adam7: 286 bytes in its seven reduced images), 3×2 RGBA 16-bit, and 5×1 grey 1-bit.
write("png-data", "grey-16x16", bytes([15, 15, 3]) + bytes(16 * 17))
write("png-data", "grey-16x16-adam7", bytes([15, 15, 3 + 15]) + bytes(286))
write("png-data", "rgba16-3x2", bytes([2, 1, 14]) + bytes(2 * (1 + 3 * 8)))
write("png-data", "grey1-5x1", bytes([4, 0, 0]) + bytes([0, 0b10100000]))

from PIL import Image  # noqa: E402 (only the seeds below need it)


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
