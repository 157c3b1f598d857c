"""The engine's PyTorch parity fixtures' common form, shared by lstm_reference.py, refine_reference.py and
ragged_reference.py: where they go, how tensors are written, and the fixed-length fixture that lstm_reference.py and
refine_reference.py both write. Importing it writes nothing.
"""
import json, os
import torch, torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Smnist.Tests", "Fixtures", "engine")


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def fixed_length(net, x, y, config, optimizer, lr, weight_decay=0.0, clip=None):
    """The fixture of net on one batch, x (B, T, d) and labels y (B): config (the fixture's "config"), the
    parameters under smnist's checkpoint names, the inputs in smnist's time-major (T, B, d) layout, the labels,
    the logits, the mean cross-entropy, every parameter's gradient, and the parameters after 5 optimizer steps
    (Adam, or AdamW with optimizer "adamw"; the gradient norm clipped to clip when given) on that batch."""
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

    return {
        "config": config,
        "optimizer": {"name": optimizer, "lr": lr, "weight_decay": weight_decay, "clip": clip, "steps": 5},
        "parameters": params,
        "inputs": flat(x.transpose(0, 1)),  # (T, B, d), smnist's time-major layout
        "labels": y.tolist(),
        "logits": flat(logits),
        "loss": float(loss),
        "gradients": grads,
        "parameters_after": {k: flat(v) for k, v in net.named().items()},
    }


def save(name, fixture):
    """Writes OUT/name.json."""
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(fixture, f)
    print(f"{name}: loss {fixture['loss']:.6f}")
