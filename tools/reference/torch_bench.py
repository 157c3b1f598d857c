"""PyTorch side of smnist's speed comparison, for any batch and hidden size.

The same model and loop as ../../../shared/anchors/torch_seed_bench.py (the seed's own LSTM cell, or
torch.nn.LSTM, then nn.Linear(n, 10); Adam 1e-3; cross-entropy; data already in memory), with the batch and
hidden sizes and the sequence view (28 rows of 28 pixels, 784 pixels, or 784 permuted pixels) as arguments. Prints one JSON object. Install libopenblas0-pthread beside
python3-torch: Debian's torch otherwise runs on the reference BLAS, about ten times slower.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      /usr/bin/python3 torch_bench.py custom|builtin STEPS MNIST_DIR BATCH HIDDEN [THREADS] [rows|pixels|permuted]
"""
import gzip, json, os, sys, time
import numpy as np
import torch, torch.nn as nn

mode, steps, data = sys.argv[1], int(sys.argv[2]), sys.argv[3]
batch, hidden = int(sys.argv[4]), int(sys.argv[5])
threads = int(sys.argv[6]) if len(sys.argv) > 6 else 1
sequence = sys.argv[7] if len(sys.argv) > 7 else "rows"
torch.set_num_threads(threads)
torch.manual_seed(0)


def idx(name, offset):
    for p in (os.path.join(data, name), os.path.join(data, name + ".gz")):
        if os.path.exists(p):
            raw = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
            return np.frombuffer(raw, dtype=np.uint8, offset=offset)
    sys.exit(f"no {name} in {data}")


X = torch.from_numpy(idx("train-images-idx3-ubyte", 16).reshape(-1, 28, 28).astype(np.float32) / 255)
if sequence != "rows":
    X = X.reshape(-1, 784, 1)
    if sequence == "permuted":
        X = X[:, torch.randperm(784)].contiguous()
Y = torch.from_numpy(idx("train-labels-idx1-ubyte", 8).astype(np.int64))


class SeedCell(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.gates = nn.ModuleDict({g: nn.Linear(n + d, n) for g in ("forget", "input", "output", "candidate")})

    def forward(self, v, c, x):
        z = torch.cat([v, x], 1)
        f = torch.sigmoid(self.gates["forget"](z)); i = torch.sigmoid(self.gates["input"](z))
        o = torch.sigmoid(self.gates["output"](z)); c_tilde = torch.tanh(self.gates["candidate"](z))
        c = f * c + i * c_tilde
        return o * torch.tanh(c), c


class Net(nn.Module):
    def __init__(self, builtin, d=28, n=128):
        super().__init__(); self.n, self.builtin = n, builtin
        self.lstm = nn.LSTM(d, n, batch_first=True) if builtin else SeedCell(d, n)
        self.readout = nn.Linear(n, 10)

    def forward(self, x):
        if self.builtin:
            _, (h, _) = self.lstm(x); return self.readout(h[-1])
        v = torch.zeros(x.shape[0], self.n); c = torch.zeros_like(v)
        for t in range(x.shape[1]):
            v, c = self.lstm(v, c, x[:, t])
        return self.readout(v)


net = Net(mode == "builtin", d=X.shape[2], n=hidden)
opt = torch.optim.Adam(net.parameters(), lr=1e-3); loss_fn = nn.CrossEntropyLoss()
span = (X.shape[0] // batch) * batch


def step(i):
    j = slice((i * batch) % span, (i * batch) % span + batch)
    opt.zero_grad(); loss_fn(net(X[j]), Y[j]).backward(); opt.step()


for i in range(10): step(i)
t = time.perf_counter()
for i in range(steps): step(i)
dt = time.perf_counter() - t
print(json.dumps({"mode": mode, "sequence": sequence, "batch_size": batch, "hidden": hidden, "threads": threads,
                  "samples_per_second": steps * batch / dt, "ms_per_step": dt / steps * 1e3}))
