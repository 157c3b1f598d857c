"""Writes the engine's PyTorch parity fixtures: tests/Smnist.Tests/Fixtures/engine/*.json.

The model is the seed notebook's: per layer a ModuleDict of four nn.Linear(n + d, n) gates over z = [v_{t-1}, x_t]
(forget, input, output, candidate), then nn.Linear(n, classes) on the last layer's final output. Each fixture holds
the configuration, the parameters under smnist's checkpoint names, one batch of inputs in smnist's time-major
(T, B, d) layout, the labels, the logits, the mean cross-entropy, every parameter's gradient, and the parameters
after 5 optimizer steps on that batch.

  apt-get install python3-torch
  /usr/bin/python3 tools/reference/lstm_reference.py
"""
import json, os
import torch, torch.nn as nn, torch.nn.functional as F

GATES = ("forget", "input", "output", "candidate")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Smnist.Tests", "Fixtures", "engine")


class SeedCell(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.gates = nn.ModuleDict({g: nn.Linear(n + d, n) for g in GATES})

    def forward(self, v, c, x):
        z = torch.cat([v, x], 1)
        f = torch.sigmoid(self.gates["forget"](z))
        i = torch.sigmoid(self.gates["input"](z))
        o = torch.sigmoid(self.gates["output"](z))
        c_tilde = torch.tanh(self.gates["candidate"](z))
        c = f * c + i * c_tilde
        return o * torch.tanh(c), c


class SeedNet(nn.Module):
    def __init__(self, d, n, layers, classes):
        super().__init__()
        self.n = n
        self.lstm = nn.ModuleList(SeedCell(d if l == 0 else n, n) for l in range(layers))
        self.readout = nn.Linear(n, classes)

    def forward(self, x):  # x: (B, T, d)
        for cell in self.lstm:
            v = torch.zeros(x.shape[0], self.n)
            c = torch.zeros_like(v)
            outputs = []
            for t in range(x.shape[1]):
                v, c = cell(v, c, x[:, t])
                outputs.append(v)
            x = torch.stack(outputs, 1)
        return self.readout(v)

    def named(self):
        """Parameters under smnist's checkpoint names."""
        out = {}
        for l, cell in enumerate(self.lstm):
            for g in GATES:
                out[f"lstm.{l}.{g}.weight"] = cell.gates[g].weight
                out[f"lstm.{l}.{g}.bias"] = cell.gates[g].bias
        out["readout.weight"] = self.readout.weight
        out["readout.bias"] = self.readout.bias
        return out


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def write(name, d, n, layers, classes, steps, batch, seed, optimizer, lr, weight_decay=0.0, clip=None):
    torch.manual_seed(seed)
    net = SeedNet(d, n, layers, classes)
    x = torch.rand(batch, steps, d)
    y = torch.randint(0, classes, (batch,))
    params = {k: flat(v) for k, v in net.named().items()}

    logits = net(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    grads = {k: flat(v.grad) for k, v in net.named().items()}

    opt = (torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay) if optimizer == "adamw"
           else torch.optim.Adam(net.parameters(), lr=lr))
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()

    fixture = {
        "config": {"input_size": d, "hidden_size": n, "layers": layers, "classes": classes, "steps": steps, "batch": batch},
        "optimizer": {"name": optimizer, "lr": lr, "weight_decay": weight_decay, "clip": clip, "steps": 5},
        "parameters": params,
        "inputs": flat(x.transpose(0, 1)),  # (T, B, d), smnist's time-major layout
        "labels": y.tolist(),
        "logits": flat(logits),
        "loss": float(loss),
        "gradients": grads,
        "parameters_after": {k: flat(v) for k, v in net.named().items()},
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(fixture, f)
    print(f"{name}: loss {float(loss):.6f}")


torch.set_num_threads(1)
write("seed_rows", d=28, n=16, layers=1, classes=10, steps=28, batch=4, seed=1, optimizer="adam", lr=1e-3)
write("stacked", d=3, n=5, layers=2, classes=4, steps=7, batch=3, seed=2, optimizer="adam", lr=1e-2)
write("adamw_clip", d=2, n=6, layers=1, classes=10, steps=5, batch=5, seed=3, optimizer="adamw", lr=5e-3,
      weight_decay=0.1, clip=0.05)
