"""smnist against PyTorch on this machine: `smnist bench` and the notebook's model in PyTorch (its own cell and nn.LSTM),
run alternately, several rounds, same shapes (28 rows of 28 pixels, and 784 single pixels); prints medians and
ratios as a Markdown table.

  apt-get install python3-torch libopenblas0-pthread   # without OpenBLAS, Debian's torch uses the reference BLAS (10x slower)
  /usr/bin/python3 tools/compare_speed.py [--data-dir DIR] [--rounds 3] [--steps 200] [--threads 2] [--sequence rows|pixels]

PyTorch runs with one thread (its fastest setting on two cores here) and without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, which slow a current OpenBLAS; smnist runs with --threads. DIR holds the MNIST IDX files
(default: smnist's cache, ~/.cache/smnist/mnist).
"""
import argparse, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = [("rows", 32, 128), ("rows", 128, 128), ("rows", 512, 128), ("rows", 32, 256), ("pixels", 32, 128)]

parser = argparse.ArgumentParser()
parser.add_argument("--data-dir", default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "smnist", "mnist"))
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--sequence", choices=["rows", "pixels"], help="only the shapes of this view (default: both)")
args = parser.parse_args()

subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Smnist.Cli"), "-c", "Release", "-o", "/tmp/smnist-compare", "--nologo", "-v", "q"], check=True, stdout=subprocess.DEVNULL)
torch_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
torch_env["OPENBLAS_NUM_THREADS"] = "1"


def run(command, env=None):
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_second"]


def scaled_steps(sequence, steps):
    """A 784-step sequence costs 28 times a 28-step one: fewer steps keep each run's length alike, but no fewer than
    64 (a few seconds each), as runs of 20 read up to a fifth slower and scattered more."""
    return steps if sequence == "rows" else max(64, steps * 28 // 784)


def smnist(sequence, batch, hidden):
    return run(["dotnet", "/tmp/smnist-compare/smnist.dll", "bench", "--sequence", sequence, "--batch-size", str(batch), "--hidden", str(hidden),
                "--steps", str(max(20, scaled_steps(sequence, args.steps * 32 // batch))), "--threads", str(args.threads), "--json"])


def torch(mode, sequence, batch, hidden):
    steps = max(10, scaled_steps(sequence, args.steps * 32 // batch) // 2)
    return run(["/usr/bin/python3", os.path.join(ROOT, "tools", "reference", "torch_bench.py"), mode, str(steps),
                args.data_dir, str(batch), str(hidden), "1", sequence], env=torch_env)


rows = []
for sequence, batch, hidden in [shape for shape in SHAPES if args.sequence in (None, shape[0])]:
    ours, cell, builtin = [], [], []
    for _ in range(args.rounds):
        ours.append(smnist(sequence, batch, hidden))
        cell.append(torch("custom", sequence, batch, hidden))
        builtin.append(torch("builtin", sequence, batch, hidden))
    o, c, b = statistics.median(ours), statistics.median(cell), statistics.median(builtin)
    rows.append(f"| {sequence} | {batch} | {hidden} | {o:,.0f} | {c:,.0f} | {b:,.0f} | {o / c:.1f}× | {o / b:.1f}× |")
    print(rows[-1], file=sys.stderr, flush=True)

print(f"Medians of {args.rounds} alternating rounds, samples/s; smnist with {args.threads} threads, PyTorch 1.13 with 1.\n")
print("| sequence | batch | hidden | smnist | PyTorch, the notebook's cell | torch.nn.LSTM | vs the cell | vs nn.LSTM |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
print("\n".join(rows))
