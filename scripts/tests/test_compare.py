"""scripts/compare and scripts/check-regression: the gate passes clean runs, fails on a slowdown.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)

Fixtures in data/: two real clean startup runs from one of the shared 2-core machines (native,
cvrun, crun, 300 repetitions each at nice -20 + ionice realtime as check-regression runs them,
taken minutes apart while other engineers compiled, load ~11),
slimmed to the fields the scripts read.
"""
import importlib.machinery
import importlib.util
import json
import math
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")
DATA = os.path.join(HERE, "data")
PY = sys.executable or "/usr/bin/python3"
RUN_A = os.path.join(DATA, "clean-a")
RUN_B = os.path.join(DATA, "clean-b")


def load_compare():
    loader = importlib.machinery.SourceFileLoader("cvb_compare", os.path.join(SCRIPTS, "compare"))
    spec = importlib.util.spec_from_loader("cvb_compare", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def compare(*args):
    return subprocess.run([PY, os.path.join(SCRIPTS, "compare"), *args],
                          capture_output=True, text=True, timeout=300)


def write_run(path, launchers, context=None, errors=(), suffix="", suite="startup"):
    """A run dir with <suite>.json: launchers = {name: [real_time samples]}."""
    os.makedirs(path, exist_ok=True)
    benchmarks = []
    for name, samples in launchers.items():
        for i, v in enumerate(samples):
            benchmarks.append({"name": f"{suite}/{name}{suffix}", "run_name": f"{suite}/{name}{suffix}",
                               "run_type": "iteration", "repetition_index": i, "real_time": v,
                               "exit_ms": v, "time_unit": "ms"})
    for name in errors:
        benchmarks.append({"name": f"{suite}/{name}{suffix}", "run_name": f"{suite}/{name}{suffix}",
                           "run_type": "iteration", "error_occurred": True,
                           "error_message": f"{name} cannot run here", "real_time": 0})
    ctx = {"git_sha": "0" * 40, "accelerator": "tcg: test", "kernel": "test", "repetitions": "n"}
    ctx.update(context or {})
    with open(os.path.join(path, f"{suite}.json"), "w") as f:
        json.dump({"context": ctx, "benchmarks": benchmarks}, f)
    return path


def synthetic_run(rng, slowdown=1.0, n=300):
    """Launch times shaped like this host's: a run-wide drift (the machine's load that day), a
    lognormal body and a heavy right tail (preemption)."""
    drift = math.exp(rng.gauss(0, 0.3))
    def sample(base):
        out = []
        for _ in range(n):
            v = base * drift * math.exp(rng.gauss(0, 0.3))
            if rng.random() < 0.15:
                v *= rng.uniform(1.5, 3.0)
            out.append(v)
        return out
    return {"native": sample(1.5), "cvrun": [v * slowdown for v in sample(35.0)],
            "crun": sample(55.0)}


class RealRuns(unittest.TestCase):
    def test_clean_runs_pass_both_ways(self):
        for a, b in ((RUN_A, RUN_B), (RUN_B, RUN_A)):
            r = compare(a, b)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("compare: OK", r.stderr)

    def test_injected_25pct_cvrun_slowdown_fails_both_ways(self):
        for a, b in ((RUN_A, RUN_B), (RUN_B, RUN_A)):
            r = compare(a, b, "--inject-slowdown", "cvrun=1.25")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"startup/cvrun / crun .* REGRESSION")
            self.assertIn("INJECTED", r.stdout)

    def test_injected_speedup_is_an_improvement_not_a_failure(self):
        r = compare(RUN_A, RUN_B, "--inject-slowdown", "cvrun=0.7")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"startup/cvrun / crun .* improvement")

    def test_a_slower_machine_is_not_a_regression_of_ratios(self):
        args = [f"--inject-slowdown={l}=1.6" for l in ("native", "cvrun", "crun")]
        r = compare(RUN_A, RUN_B, *args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"startup/cvrun +\S+ +\S+ +\+\d+\.\d% +\S+ +slower")
        r = compare(RUN_A, RUN_B, *args, "--gate-absolute")
        self.assertEqual(r.returncode, 1, "--gate-absolute fails on absolute slowdowns")

    def test_json_output(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "c.json")
            r = compare(RUN_A, RUN_B, "--inject-slowdown", "cvrun=1.25", "--json", out)
            self.assertEqual(r.returncode, 1)
            with open(out) as f:
                doc = json.load(f)
            self.assertEqual(doc["status"], 1)
            gate = [g for g in doc["gate"] if g["num"] == "startup/cvrun"]
            self.assertEqual(gate[0]["verdict"], "REGRESSION")
            self.assertGreater(gate[0]["change"], 0.15)
            self.assertEqual(doc["injected"], {"cvrun": 1.25})

    def test_baseline_may_be_a_file_naming_the_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(RUN_A, os.path.join(tmp, "ref-run"))
            with open(os.path.join(tmp, "baseline"), "w") as f:
                f.write("# comment\nref-run\n")
            r = compare(os.path.join(tmp, "baseline"), RUN_B)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("ref-run", r.stdout)


class EdgeCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.rng = random.Random(7)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_nothing_to_gate_is_status_2(self):
        a = write_run(os.path.join(self.tmp, "a"), {"native": [1.0] * 9})
        b = write_run(os.path.join(self.tmp, "b"), {"native": [1.1] * 9})
        r = compare(a, b)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("NOTHING TO GATE", r.stderr)

    def test_failed_launcher_is_named_not_passed_silently(self):
        run = synthetic_run(self.rng)
        a = write_run(os.path.join(self.tmp, "a"), run)
        b = write_run(os.path.join(self.tmp, "b"), {"native": run["native"], "cvrun": run["cvrun"]},
                      errors=["crun"])
        r = compare(a, b)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("startup/crun failed", r.stdout)

    def test_google_benchmark_suffixes_and_vm_dims(self):
        run = synthetic_run(self.rng, n=30)
        vm = {"libvirt/kernel:minimal": [300 + i for i in range(10)],
              "qemu/kernel:minimal": [250 + i for i in range(10)]}
        a = write_run(os.path.join(self.tmp, "a"), {**run, **vm}, suffix="/iterations:1/repeats:30/manual_time")
        b = write_run(os.path.join(self.tmp, "b"), {**run, **vm})
        r = compare(a, b, "--inject-slowdown", "libvirt=1.5")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"startup/libvirt/kernel:minimal / qemu/kernel:minimal .* REGRESSION")
        self.assertRegex(r.stdout, r"startup/cvrun / crun .* no significant change")

    def test_unknown_injected_launcher_is_bad_input(self):
        r = compare(RUN_A, RUN_B, "--inject-slowdown", "nosuch=2")
        self.assertEqual(r.returncode, 2)
        r = compare(RUN_A, RUN_B, "--inject-slowdown", "cvrun")
        self.assertNotEqual(r.returncode, 0)

    def test_too_few_samples_never_fail(self):
        a = write_run(os.path.join(self.tmp, "a"), {"cvrun": [10, 11, 12], "crun": [20, 21, 22]})
        b = write_run(os.path.join(self.tmp, "b"), {"cvrun": [30, 31, 32], "crun": [20, 21, 22]})
        r = compare(a, b)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("too few samples", r.stdout)


class Power(unittest.TestCase):
    """Many synthetic clean pairs and slowed pairs through the gate's decision (in-process)."""

    def decide(self, mod, base, new):
        b = {"startup": {f"startup/{k}": v for k, v in base.items()}}
        n = {"startup": {f"startup/{k}": v for k, v in new.items()}}
        row = mod.ratio_test(b, n, "startup", "startup/cvrun", "startup/crun", 0.15, 0.05)
        return row["verdict"]

    def test_false_positives_and_power(self):
        mod = load_compare()
        mod.BOOTSTRAP = 20  # the interval is shown, not decided on; keep the test fast
        rng = random.Random(2026)
        trials = 60
        false_pos = sum(self.decide(mod, synthetic_run(rng), synthetic_run(rng)) == "REGRESSION"
                        for _ in range(trials))
        caught = sum(self.decide(mod, synthetic_run(rng), synthetic_run(rng, slowdown=1.25)) == "REGRESSION"
                     for _ in range(trials))
        self.assertLessEqual(false_pos, 1, f"{false_pos}/{trials} clean pairs flagged")
        self.assertGreaterEqual(caught, trials - 2, f"only {caught}/{trials} 25% slowdowns caught")


class CheckRegressionWiring(unittest.TestCase):
    """scripts/check-regression with a stand-in cvbench that 'measures' a fixture run."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.fake = os.path.join(self.tmp, "cvbench")
        with open(self.fake, "w") as f:
            f.write("#!/bin/sh\n# stand-in: copy the fixture run into --out\n"
                    "while [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n"
                    f"mkdir -p \"$out\" && cp {RUN_B}/startup.json \"$out/\"\n")
        os.chmod(self.fake, os.stat(self.fake).st_mode | stat.S_IXUSR)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check(self, **env):
        e = dict(os.environ, CVB_CVBENCH=self.fake, CVB_BASELINE=RUN_A,
                 CVB_SMOKE_OUT=os.path.join(self.tmp, "smoke"))
        e.pop("CVB_INJECT_SLOWDOWN", None)
        e.update(env)
        return subprocess.run([os.path.join(SCRIPTS, "check-regression")], env=e,
                              capture_output=True, text=True, timeout=600)

    def test_clean_passes_with_power_check(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("power check: a 25% cvrun slowdown injected into this run is caught", r.stderr)

    def test_injected_slowdown_fails_after_confirmation(self):
        r = self.check(CVB_INJECT_SLOWDOWN="cvrun=1.25")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("regression confirmed by two sweeps", r.stderr)

    def test_launcher_missing_here_skips(self):
        with open(self.fake, "w") as f:
            f.write("#!/bin/sh\necho 'cvbench: launcher crun: binary not found' >&2\nexit 2\n")
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SKIPPED: a launcher of the smoke sweep", r.stderr)

    def test_no_baseline_skips(self):
        r = self.check(CVB_BASELINE=os.path.join(self.tmp, "nothing"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SKIPPED: no baseline", r.stderr)


if __name__ == "__main__":
    unittest.main()


class ReportPlotTrend(unittest.TestCase):
    """scripts/report (which runs plot) and scripts/trend on a fixture run: files appear, and a
    suite that did not run is reported as not tested."""

    def test_report_plot_trend(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = os.path.join(tmp, "run-a")
            shutil.copytree(RUN_A, run)
            r = subprocess.run([PY, os.path.join(SCRIPTS, "report"), run], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            for f in ("REPORT.md", "startup.png", "startup.svg", "startup_phases.png"):
                self.assertTrue(os.path.exists(os.path.join(run, f)), f)
            with open(os.path.join(run, "REPORT.md")) as f:
                md = f.read()
            self.assertIn("| 1 | A container is a runtime instance of an image", md)
            self.assertIn("Not tested in this run: the `density` suite did not run", md)
            self.assertIn("Isolation.DefaultSpecSeesNothingOfTheHost", md)
            self.assertIn("![startup](startup.png)", md)
            r = subprocess.run([PY, os.path.join(SCRIPTS, "trend"), tmp], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(tmp, "index.json")) as f:
                idx = json.load(f)
            self.assertEqual([x["run"] for x in idx["runs"]], ["run-a"])
            self.assertIn("cvrun / crun", idx["runs"][0]["ratios"])
            self.assertTrue(os.path.exists(os.path.join(tmp, "trend.png")))
