"""Writes the engine's ragged-batch PyTorch parity fixtures: tests/Smnist.Tests/Fixtures/engine/ragged_*.json.

The notebook's cell (seed_model.SeedNet) runs over each sequence of a batch at its own length, one sequence at a
time, so nothing in the reference knows of padding or packing. Two fixtures:
- ragged_last: one label per sequence; the logits are the readout of each sequence's own last step, the loss the
  mean cross-entropy over the sequences;
- ragged_steps: a label per step (-1 = no label); the logits are the readout at every step, the loss the mean
  cross-entropy over the labelled steps.
Each holds the configuration, the parameters under smnist's checkpoint names, the inputs padded with zeros in
smnist's time-major (T_max, B, d) layout, the lengths (B, in batch order, not sorted), the labels ((B), or
(T_max, B) time-major with -1 beyond each length), the logits ((B, K), or (T_max, B, K) with zeros beyond each
length), the loss and every parameter's gradient.

  apt-get install python3-torch
  /usr/bin/python3 tools/reference/ragged_reference.py
"""
import torch, torch.nn.functional as F
from seed_model import SeedNet
from parity_fixture import flat, save


def step_outputs(net, x):
    """(T, n) the last layer's v_t at every step of one sequence x (T, d), from the zero state."""
    x = x.unsqueeze(0)
    for cell in net.lstm:
        v = torch.zeros(1, net.n)
        c = torch.zeros_like(v)
        outputs = []
        for t in range(x.shape[1]):
            v, c = cell(v, c, x[:, t])
            outputs.append(v)
        x = torch.stack(outputs, 1)
    return x[0]


def write(name, d, n, layers, classes, lengths, seed, per_step, net_class=SeedNet, init=None):
    """init, when given, changes the fresh net's parameters in place before anything is drawn from it."""
    torch.manual_seed(seed)
    net = net_class(d, n, layers, classes)
    if init is not None:
        init(net)
    steps, batch = max(lengths), len(lengths)
    x = torch.rand(batch, steps, d)
    for b, length in enumerate(lengths):
        x[b, length:] = 0  # padding, never read
    params = {k: flat(v) for k, v in net.named().items()}

    if per_step:
        labels = torch.randint(0, classes, (batch, steps))
        labels[torch.rand(batch, steps) < 0.3] = -1
        for b, length in enumerate(lengths):
            labels[b, length:] = -1
        logits = torch.zeros(batch, steps, classes)
        losses = []
        for b, length in enumerate(lengths):
            step_logits = net.readout(step_outputs(net, x[b, :length]))  # (length, K)
            logits[b, :length] = step_logits
            labelled = labels[b, :length] >= 0
            losses.append(F.cross_entropy(step_logits[labelled], labels[b, :length][labelled], reduction="sum"))
        loss = torch.stack(losses).sum() / (labels >= 0).sum()
        labels_out, logits_out = labels.transpose(0, 1).tolist(), flat(logits.transpose(0, 1))
    else:
        labels = torch.randint(0, classes, (batch,))
        logits = torch.stack([net.readout(step_outputs(net, x[b, :length])[-1]) for b, length in enumerate(lengths)])
        loss = F.cross_entropy(logits, labels)
        labels_out, logits_out = labels.tolist(), flat(logits)
    loss.backward()

    fixture = {
        "config": {"input_size": d, "hidden_size": n, "layers": layers, "classes": classes, "steps": steps, "batch": batch,
                   **({} if net_class is SeedNet else {"refine_gate": True})},
        "parameters": params,
        "inputs": flat(x.transpose(0, 1)),  # (T_max, B, d), smnist's time-major layout
        "lengths": lengths,
        "labels": labels_out,
        "logits": logits_out,
        "loss": float(loss),
        "gradients": {k: flat(v.grad) for k, v in net.named().items()},
    }
    save(name, fixture)


if __name__ == "__main__":
    torch.set_num_threads(1)
    write("ragged_last", d=3, n=5, layers=2, classes=4, lengths=[3, 7, 1, 5, 7, 2], seed=4, per_step=False)
    write("ragged_steps", d=2, n=4, layers=2, classes=3, lengths=[6, 2, 4, 1, 6], seed=5, per_step=True)
