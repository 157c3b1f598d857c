"""Writes the engine's PyTorch parity fixtures: tests/Smnist.Tests/Fixtures/engine/*.json.

The model is the seed notebook's: per layer a ModuleDict of four nn.Linear(n + d, n) gates over z = [v_{t-1}, x_t]
(forget, input, output, candidate), then nn.Linear(n, classes) on the last layer's final output. Each fixture holds
the configuration, the parameters under smnist's checkpoint names, one batch of inputs in smnist's time-major
(T, B, d) layout, the labels, the logits, the mean cross-entropy, every parameter's gradient, and the parameters
after 5 optimizer steps on that batch. For seed_rows the same initial weights also go to seed_rows.safetensors,
as a renamed state_dict without metadata: the way a PyTorch user hands weights to smnist.

  apt-get install python3-torch
  /usr/bin/python3 tools/reference/lstm_reference.py
"""
import json, os
import torch, torch.nn.functional as F
from seed_model import SeedNet, save_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Smnist.Tests", "Fixtures", "engine")


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def write(name, d, n, layers, classes, steps, batch, seed, optimizer, lr, weight_decay=0.0, clip=None, export_state_dict=False):
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
    if export_state_dict:
        # The initial weights as a renamed PyTorch state_dict, no metadata: smnist must infer the sizes.
        torch.manual_seed(seed)
        save_safetensors(os.path.join(OUT, name + ".safetensors"), SeedNet(d, n, layers, classes).named())
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(fixture, f)
    print(f"{name}: loss {float(loss):.6f}")


torch.set_num_threads(1)
write("seed_rows", d=28, n=16, layers=1, classes=10, steps=28, batch=4, seed=1, optimizer="adam", lr=1e-3,
      export_state_dict=True)
write("stacked", d=3, n=5, layers=2, classes=4, steps=7, batch=3, seed=2, optimizer="adam", lr=1e-2)
write("adamw_clip", d=2, n=6, layers=1, classes=10, steps=5, batch=5, seed=3, optimizer="adamw", lr=5e-3,
      weight_decay=0.1, clip=0.05)
