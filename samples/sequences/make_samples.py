"""Writes the sample sequence files of docs/sequences.md: three kinds of two-channel signals of 8 to 24 steps.

Class 0 (rising), 1 (falling) and 2 (wave): channel 1 is the signal with noise, channel 2 its change since the
step before. The same sequences go into JSON Lines (train.jsonl, test.jsonl) and sktime/aeon .ts files
(train.ts, test.ts) with the class names rising, falling and wave. Deterministic: run it again for the same files.
"""
import json
import math
import pathlib
import random

HERE = pathlib.Path(__file__).parent
NAMES = ["rising", "falling", "wave"]


def sequence(kind, rng):
    length = rng.randint(8, 24)
    start, slope = rng.uniform(-1, 1), rng.uniform(0.05, 0.15)
    phase, period = rng.uniform(0, 2 * math.pi), rng.uniform(4, 8)
    values = []
    for t in range(length):
        if kind == 0:
            x = start + slope * t
        elif kind == 1:
            x = start - slope * t
        else:
            x = start + 0.8 * math.sin(phase + 2 * math.pi * t / period)
        values.append(round(x + rng.gauss(0, 0.05), 3))
    changes = [0.0] + [round(b - a, 3) for a, b in zip(values, values[1:])]
    return [[x, dx] for x, dx in zip(values, changes)]


def write(name, count, seed):
    rng = random.Random(seed)
    cases = [(k % 3, sequence(k % 3, rng)) for k in range(count)]
    with open(HERE / f"{name}.jsonl", "w") as out:
        for label, steps in cases:
            out.write(json.dumps({"label": label, "steps": steps}, separators=(",", ":")) + "\n")
    with open(HERE / f"{name}.ts", "w") as out:
        out.write("# Rising, falling and wave signals of 8 to 24 steps (samples/sequences/make_samples.py)\n")
        out.write("@problemName RisingFallingWave\n@timeStamps false\n@missing false\n@univariate false\n@dimensions 2\n")
        out.write(f"@equalLength false\n@classLabel true {' '.join(NAMES)}\n@data\n")
        for label, steps in cases:
            channels = [",".join(repr(step[c]) for step in steps) for c in range(2)]
            out.write(":".join(channels) + f":{NAMES[label]}\n")


write("train", 240, 1)
write("test", 60, 2)
