"""Loads an smnist checkpoint into the seed notebook's PyTorch model through the checkpoint's tensor names
and checks that PyTorch gives the probabilities smnist gives (`smnist predict --index K --json`) for the first
test images.

  apt-get install python3-torch
  /usr/bin/python3 tools/reference/check_checkpoint.py runs/<run>/model.safetensors MNIST_DIR [COUNT]

MNIST_DIR holds t10k-images-idx3-ubyte(.gz); the checkpoint must use the rows or pixels view.
"""
import gzip, json, os, subprocess, sys
import numpy as np
import torch
from seed_model import SeedNet, load_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
model_path, data = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 20

tensors, metadata = load_safetensors(model_path)
n, columns = tensors["lstm.0.forget.weight"].shape
layers = sum(1 for k in tensors if k.endswith(".forget.weight"))
net = SeedNet(columns - n, n, layers, tensors["readout.weight"].shape[0])
net.load_smnist(tensors)

path = next(p for p in (os.path.join(data, "t10k-images-idx3-ubyte"), os.path.join(data, "t10k-images-idx3-ubyte.gz")) if os.path.exists(p))
raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:count].astype(np.float32) / 255
steps = int(metadata.get("steps", 28))
with torch.no_grad():
    torch_probs = torch.softmax(net(torch.from_numpy(images).reshape(count, steps, -1)), 1).numpy()

subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Smnist.Cli"), "-c", "Release", "-o", "/tmp/smnist-check", "--nologo", "-v", "q"], check=True)
worst = 0.0
for k in range(count):
    out = subprocess.run(["dotnet", "/tmp/smnist-check/smnist.dll", "predict", "--model", model_path, "--index", str(k), "--data-dir", data, "--json"],
                         check=True, capture_output=True, text=True).stdout
    ours = np.array(json.loads(out)["predictions"][0]["probabilities"], dtype=np.float32)
    worst = max(worst, float(np.abs(ours - torch_probs[k]).max()))
print(f"{count} test images: largest probability difference smnist vs PyTorch {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
