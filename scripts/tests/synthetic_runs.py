"""Synthetic run directories for the claim tests: <suite>.json files in Google Benchmark's shape
with the fields the claims read, so each rule can be made to hold, fail and stay inconclusive.

Also puts scripts/ on sys.path, so tests import the package as the commands do:
`from cvbench_analysis import ...`.
"""
import json
import math
import os
import random
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)


def write_suite(run_dir, suite, entries, errors=(), image_hash="abc123"):
    """entries: {entry name without suite: [dict of fields per repetition]}; errors: names, or
    {name: message}."""
    os.makedirs(run_dir, exist_ok=True)
    benchmarks = []
    for name, reps in entries.items():
        for i, fields in enumerate(reps):
            benchmarks.append({"name": f"{suite}/{name}", "run_name": f"{suite}/{name}",
                               "run_type": "iteration", "repetition_index": i, "real_time": 1.0,
                               **fields})
    messages = errors if isinstance(errors, dict) else {n: f"{n} cannot run this here" for n in errors}
    for name, message in messages.items():
        benchmarks.append({"name": f"{suite}/{name}", "run_name": f"{suite}/{name}",
                           "run_type": "iteration", "error_occurred": True,
                           "error_message": message, "real_time": 0})
    with open(os.path.join(run_dir, f"{suite}.json"), "w") as f:
        json.dump({"context": {"image_hash": image_hash, "accelerator": "tcg: test"},
                   "benchmarks": benchmarks}, f)


def noisy(rng, base, rel, n):
    return [base * math.exp(rng.gauss(0, rel)) for _ in range(n)]


def density_sweep(run_dir, rng, slopes, fixed=5.0, noise=0.3, ns=(1, 10, 32, 64), reps=2):
    """density.json with cost_mib = fixed + slope * N + noise for each {entry: slope}."""
    entries = {}
    for base, slope in slopes.items():
        f = fixed.get(base, 5.0) if isinstance(fixed, dict) else fixed
        for n in ns:
            costs = [f + slope * n + rng.gauss(0, noise) for _ in range(reps)]
            # instances_per_gib as the suite writes it: from this N's cost / N
            entries[f"{base}/n:{n}"] = [{"n": n, "cost_mib": c, "instances_per_gib": 1024.0 * n / c}
                                        for c in costs]
    write_suite(run_dir, "density", entries)
    return run_dir


class ClaimTest(unittest.TestCase):
    """A fresh directory and a seeded random source per test; verdict(claim, run_dir) evaluates a
    claim module on a run directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.rng = random.Random(5)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_dir(self, name):
        return os.path.join(self.tmp, name)

    @staticmethod
    def verdict(claim, run_dir):
        from cvbench_analysis.run import Run
        return claim.evaluate(Run(run_dir))
