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
import os
import torch
from seed_model import SeedNet, save_safetensors
from parity_fixture import OUT, fixed_length, save


def write(name, d, n, layers, classes, steps, batch, seed, optimizer, lr, weight_decay=0.0, clip=None, export_state_dict=False):
    torch.manual_seed(seed)
    net = SeedNet(d, n, layers, classes)
    x = torch.rand(batch, steps, d)
    y = torch.randint(0, classes, (batch,))
    config = {"input_size": d, "hidden_size": n, "layers": layers, "classes": classes, "steps": steps, "batch": batch}
    save(name, fixed_length(net, x, y, config, optimizer, lr, weight_decay, clip))
    if export_state_dict:
        # The initial weights as a renamed PyTorch state_dict, no metadata: smnist must infer the sizes.
        torch.manual_seed(seed)
        save_safetensors(os.path.join(OUT, name + ".safetensors"), SeedNet(d, n, layers, classes).named())


if __name__ == "__main__":
    torch.set_num_threads(1)
    write("seed_rows", d=28, n=16, layers=1, classes=10, steps=28, batch=4, seed=1, optimizer="adam", lr=1e-3,
          export_state_dict=True)
    write("stacked", d=3, n=5, layers=2, classes=4, steps=7, batch=3, seed=2, optimizer="adam", lr=1e-2)
    write("adamw_clip", d=2, n=6, layers=1, classes=10, steps=5, batch=5, seed=3, optimizer="adamw", lr=5e-3,
          weight_decay=0.1, clip=0.05)
