"""Writes the JPEG fixtures of tests/Smnist.Tests/Fixtures/images (run with Debian's python3, which has PIL).

seven-upright.jpg   a 7 from the committed MNIST test subset, dark on light, 112x112, upright
seven-exif6.jpg     the same 7 stored turned 90 degrees anticlockwise, with EXIF orientation 6 (turn clockwise
                    to view), as a phone writes a photo taken in portrait
seven-truncated.jpg seven-upright.jpg cut in half
"""
import gzip
import io
import pathlib

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
MNIST = ROOT / "tests/Smnist.Tests/Fixtures/mnist"
OUT = ROOT / "tests/Smnist.Tests/Fixtures/images"

labels = gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz").read()[8:]
images = gzip.open(MNIST / "t10k-images-idx3-ubyte.gz").read()[16:]
index = labels.index(7)
seven = Image.frombytes("L", (28, 28), images[index * 784:(index + 1) * 784])
upright = Image.eval(seven, lambda v: 255 - v).resize((112, 112), Image.BILINEAR)


def jpeg(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


OUT.mkdir(parents=True, exist_ok=True)
data = jpeg(upright)
(OUT / "seven-upright.jpg").write_bytes(data)
exif = Image.Exif()
exif[0x0112] = 6
(OUT / "seven-exif6.jpg").write_bytes(jpeg(upright.transpose(Image.ROTATE_90), exif=exif.tobytes()))
(OUT / "seven-truncated.jpg").write_bytes(data[: len(data) // 2])
