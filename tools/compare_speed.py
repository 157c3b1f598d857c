"""smnist against PyTorch on this machine: `smnist bench` and the PyTorch seed model (own cell and nn.LSTM),
run alternately, several rounds, same shapes; prints medians and ratios as a Markdown table.

  apt-get install python3-torch libopenblas0-pthread   # without OpenBLAS, Debian's torch uses the reference BLAS (10x slower)
  /usr/bin/python3 tools/compare_speed.py [--data-dir DIR] [--rounds 3] [--steps 200] [--threads 2]

PyTorch runs with one thread (its fastest setting on two cores here) and without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, which slow a current OpenBLAS; smnist runs with --threads. DIR holds the MNIST IDX files
(default: smnist's cache, ~/.cache/smnist/mnist).
"""
import argparse, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = [(32, 128), (128, 128), (512, 128), (32, 256)]

parser = argparse.ArgumentParser()
parser.add_argument("--data-dir", default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "smnist", "mnist"))
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()

subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Smnist.Cli"), "-c", "Release", "-o", "/tmp/smnist-compare", "--nologo", "-v", "q"], check=True, stdout=subprocess.DEVNULL)
torch_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
torch_env["OPENBLAS_NUM_THREADS"] = "1"


def run(command, env=None):
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_second"]


def smnist(batch, hidden):
    return run(["dotnet", "/tmp/smnist-compare/smnist.dll", "bench", "--batch-size", str(batch), "--hidden", str(hidden),
                "--steps", str(max(20, args.steps * 32 // batch)), "--threads", str(args.threads), "--json"])


def torch(mode, batch, hidden):
    steps = max(10, args.steps * 32 // batch // 2)
    return run(["/usr/bin/python3", os.path.join(ROOT, "tools", "reference", "torch_bench.py"), mode, str(steps),
                args.data_dir, str(batch), str(hidden), "1"], env=torch_env)


rows = []
for batch, hidden in SHAPES:
    ours, cell, builtin = [], [], []
    for _ in range(args.rounds):
        ours.append(smnist(batch, hidden)); cell.append(torch("custom", batch, hidden)); builtin.append(torch("builtin", batch, hidden))
    o, c, b = statistics.median(ours), statistics.median(cell), statistics.median(builtin)
    rows.append(f"| {batch} | {hidden} | {o:,.0f} | {c:,.0f} | {b:,.0f} | {o / c:.1f}× | {o / b:.1f}× |")
    print(rows[-1], file=sys.stderr, flush=True)

print(f"Medians of {args.rounds} alternating rounds, samples/s; smnist with {args.threads} threads, PyTorch 1.13 with 1.\n")
print("| batch | hidden | smnist | PyTorch seed cell | torch.nn.LSTM | vs seed cell | vs nn.LSTM |")
print("|---:|---:|---:|---:|---:|---:|---:|")
print("\n".join(rows))
