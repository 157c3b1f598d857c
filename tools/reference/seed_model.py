"""The seed notebook's model in PyTorch, and safetensors read/write without the safetensors package (Debian
ships only python3-torch). smnist's checkpoint names map one to one onto this module layout:
lstm.{l}.{gate}.weight -> lstm.{l}.gates.{gate}.weight, readout.* -> readout.*.
"""
import json, struct
import numpy as np
import torch, torch.nn as nn

GATES = ("forget", "input", "output", "candidate")


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
    def __init__(self, d, n, layers=1, classes=10):
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
        return {smnist_name(k): v for k, v in self.named_parameters()}

    def load_smnist(self, tensors):
        self.load_state_dict({module_name(k): torch.from_numpy(v) for k, v in tensors.items()}, strict=True)


def smnist_name(module_name):
    return module_name.replace(".gates.", ".")


def module_name(name):
    parts = name.split(".")
    return ".".join(parts[:2] + ["gates"] + parts[2:]) if parts[0] == "lstm" else name


def save_safetensors(path, tensors, metadata=None):
    """F32 tensors in the given order, as safetensors.torch.save_file lays them out."""
    header, data = {}, bytearray()
    if metadata:
        header["__metadata__"] = metadata
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)


def load_safetensors(path):
    """(tensors as float32 numpy arrays, metadata) of an F32 safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    metadata = header.pop("__metadata__", {})
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + begin:base + end], dtype="<f4").reshape(info["shape"]).copy()
    return tensors, metadata
