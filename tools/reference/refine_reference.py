"""Writes the refine gate's and the gate initialisations' PyTorch parity fixtures:
tests/Smnist.Tests/Fixtures/engine/{refine_uniform,refine_chrono,refine_constant,lstm_uniform,lstm_chrono,
ragged_refine_last,ragged_refine_steps}.json.

The UR-LSTM cell of Gu et al. 2020 ("Improving the Gating Mechanism of Recurrent Neural Networks", Algorithm 1),
written here from the paper's equations: per layer four nn.Linear(n + d, n) over z = [v_{t-1}, x_t], named
forget, refine, output, candidate, and
    f = sigmoid(L_f z)   r = sigmoid(L_r z)   o = sigmoid(L_o z)   c~ = tanh(L_c z)
    g = r * (1 - (1 - f)^2) + (1 - r) * f^2
    c = g * c_prev + (1 - g) * c~              v = o * tanh(c)
The initialisations set the forget biases b_f and the second block's (input or refine) biases -b_f:
    chrono (Tallec & Ollivier 2018): b_f = log(u), u ~ U(1, T_max - 1), T_max = the fixture's steps;
    uniform (Gu et al. 2020): b_f = log(u / (1 - u)), u ~ U(1/n, 1 - 1/n).
The draws are PyTorch's own: the fixtures check the engine in the regimes these biases put the gates in, not
smnist's draws (tests/Smnist.Tests/Nn/InitializationTests.cs checks those on their distributions). Each fixture has
lstm_reference.py's form (parity_fixture.fixed_length), with "refine_gate" and "gate_init" in its config.

  apt-get install python3-torch
  /usr/bin/python3 tools/reference/refine_reference.py
"""
import torch, torch.nn as nn
from seed_model import SeedNet
from parity_fixture import fixed_length, save
import ragged_reference as ragged

REFINE_GATES = ("forget", "refine", "output", "candidate")


class RefineCell(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.gates = nn.ModuleDict({g: nn.Linear(n + d, n) for g in REFINE_GATES})

    def forward(self, v, c, x):
        z = torch.cat([v, x], 1)
        f = torch.sigmoid(self.gates["forget"](z))
        r = torch.sigmoid(self.gates["refine"](z))
        o = torch.sigmoid(self.gates["output"](z))
        c_tilde = torch.tanh(self.gates["candidate"](z))
        g = r * (1 - (1 - f) ** 2) + (1 - r) * f ** 2
        c = g * c + (1 - g) * c_tilde
        return o * torch.tanh(c), c


class RefineNet(SeedNet):
    def __init__(self, d, n, layers=1, classes=10):
        super().__init__(d, n, layers, classes)
        self.lstm = nn.ModuleList(RefineCell(d if l == 0 else n, n) for l in range(layers))


def init_gates(net, gate_init, n, steps):
    """b_f per unit from the initialisation's distribution and -b_f for the second block (input or refine)."""
    if gate_init == "constant":
        return
    with torch.no_grad():
        for cell in net.lstm:
            if gate_init == "chrono":
                b = torch.log(1 + torch.rand(n) * (steps - 2))
            else:
                u = 1 / n + torch.rand(n) * (1 - 2 / n)
                b = torch.log(u / (1 - u))
            second = "refine" if "refine" in cell.gates else "input"
            cell.gates["forget"].bias.copy_(b)
            cell.gates[second].bias.copy_(-b)


def write(name, refine, gate_init, d, n, layers, classes, steps, batch, seed, lr):
    torch.manual_seed(seed)
    net = (RefineNet if refine else SeedNet)(d, n, layers, classes)
    init_gates(net, gate_init, n, steps)
    x = torch.rand(batch, steps, d)
    y = torch.randint(0, classes, (batch,))
    config = {"input_size": d, "hidden_size": n, "layers": layers, "classes": classes, "steps": steps, "batch": batch,
              "refine_gate": refine, "gate_init": gate_init}
    save(name, fixed_length(net, x, y, config, "adam", lr))


if __name__ != "__main__":
    raise ImportError("refine_reference.py writes fixtures; run it, do not import it")

torch.set_num_threads(1)
# n = 17: one full 8- or 16-lane vector and a scalar tail in the engine's element-wise passes.
write("refine_uniform", True, "uniform", d=3, n=17, layers=2, classes=4, steps=9, batch=3, seed=11, lr=1e-2)
write("refine_chrono", True, "chrono", d=28, n=16, layers=1, classes=10, steps=28, batch=4, seed=12, lr=1e-3)
write("refine_constant", True, "constant", d=2, n=6, layers=1, classes=10, steps=5, batch=5, seed=13, lr=5e-3)
write("lstm_uniform", False, "uniform", d=3, n=17, layers=2, classes=4, steps=9, batch=3, seed=14, lr=1e-2)
write("lstm_chrono", False, "chrono", d=28, n=16, layers=1, classes=10, steps=28, batch=4, seed=15, lr=1e-3)
# Ragged batches through ragged_reference.py's per-sequence loop, the refine cell and uniform biases in place of the seed's.
ragged.write("ragged_refine_last", d=3, n=5, layers=2, classes=4, lengths=[3, 7, 1, 5, 7, 2], seed=16, per_step=False,
             net_class=RefineNet, init=lambda net: init_gates(net, "uniform", 5, 7))
ragged.write("ragged_refine_steps", d=2, n=9, layers=2, classes=3, lengths=[6, 2, 4, 1, 6], seed=17, per_step=True,
             net_class=RefineNet, init=lambda net: init_gates(net, "uniform", 9, 6))
