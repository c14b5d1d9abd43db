"""scripts/compare and scripts/check-regression: the gate passes clean runs, fails on a slowdown,
on errored repetitions, too few samples, harness overhead, a missing cvrun or a failed Prepare.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)

Fixtures in data/: two real clean startup runs from one of the shared 2-core machines (native,
cvrun, crun, 300 repetitions each at nice -20 + ionice realtime as check-regression runs them,
taken minutes apart while other engineers compiled, load ~11),
slimmed to the fields the scripts read.
"""
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
    sys.path.insert(0, SCRIPTS)
    from cvbench_analysis.gate import compare as mod
    return mod


def compare(*args):
    return subprocess.run([PY, os.path.join(SCRIPTS, "compare"), *args],
                          capture_output=True, text=True, timeout=300)


def write_run(path, launchers, context=None, errors=(), suffix="", suite="startup"):
    """A run dir with <suite>.json: launchers = {name: [samples]}; a sample is a real_time (also
    exit_ms, and teardown_ms = a tenth of it) or a dict of fields. errors: names, one errored
    repetition each, or {name: count}."""
    os.makedirs(path, exist_ok=True)
    benchmarks = []
    for name, samples in launchers.items():
        for i, v in enumerate(samples):
            fields = v if isinstance(v, dict) else {"real_time": v, "exit_ms": v, "teardown_ms": v / 10}
            benchmarks.append({"name": f"{suite}/{name}{suffix}", "run_name": f"{suite}/{name}{suffix}",
                               "run_type": "iteration", "repetition_index": i, "time_unit": "ms",
                               **fields})
    counts = errors if isinstance(errors, dict) else {e: 1 for e in errors}
    for name, count in counts.items():
        for _ in range(count):
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


def throughput_run(rng, n=10, cvrun_speed=1.0):
    """throughput.json entries for native and cvrun, cpu and mem: rates with ~3% noise."""
    def rates(field, base, speed):
        return [{"real_time": 500.0, field: base * speed * math.exp(rng.gauss(0, 0.03))} for _ in range(n)]
    return {"native/mode:cpu": rates("int_ops_per_s", 1e9, 1.0),
            "cvrun/mode:cpu": rates("int_ops_per_s", 1e9, 0.99 * cvrun_speed),
            "native/mode:mem": rates("triad_gb_per_s", 10.0, 1.0),
            "cvrun/mode:mem": rates("triad_gb_per_s", 10.0, 0.98 * cvrun_speed)}


def density_run(rng, cvrun_slope=0.45, crun_slope=0.5, noise=0.15, ns=(1, 8, 16), reps=2):
    """density.json entries of cvrun and crun: cost_mib = fixed + slope * N + noise (MiB), the
    smoke sweep's shape (scripts/check-regression)."""
    out = {}
    for name, slope in (("cvrun", cvrun_slope), ("crun", crun_slope)):
        for n in ns:
            out[f"{name}/n:{n}"] = [{"real_time": 10.0 * n, "n": n,
                                     "cost_mib": 3.0 + slope * n + rng.gauss(0, noise)}
                                    for _ in range(reps)]
    return out


def full_run(path, rng, startup_from=None, slowdown=1.0, null_fraction=0.001, cvrun_errors=0,
             throughput=True, n=300, density=True):
    """A run with everything the gate requires: startup (native, cvrun, crun, null), the
    throughput smoke and the density smoke. startup_from: a fixture run dir whose startup samples
    are used."""
    if startup_from:
        with open(os.path.join(startup_from, "startup.json")) as f:
            doc = json.load(f)
        run = {}
        for b in doc["benchmarks"]:
            if b.get("run_type") == "iteration" and not b.get("error_occurred"):
                run.setdefault((b.get("run_name") or b["name"]).split("/")[1], []).append(
                    {k: b[k] for k in ("real_time", "exit_ms", "teardown_ms") if k in b})
    else:
        run = {k: [{"real_time": v, "exit_ms": v, "teardown_ms": v / 10} for v in vals]
               for k, vals in synthetic_run(rng, n=n).items()}
    for e in run["cvrun"]:
        for k in e:
            e[k] *= slowdown
    native = sorted(e["real_time"] for e in run["native"])[len(run["native"]) // 2]
    run["null"] = [{"real_time": native * null_fraction * rng.uniform(0.9, 1.1)} for _ in run["native"]]
    write_run(path, run, errors={"cvrun": cvrun_errors} if cvrun_errors else ())
    if throughput:
        write_run(path, throughput_run(rng), suite="throughput")
    if density:
        write_run(path, density_run(rng), suite="density")
    return path


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

    def test_failed_launcher_fails_the_gate(self):
        run = synthetic_run(self.rng)
        a = write_run(os.path.join(self.tmp, "a"), run)
        b = write_run(os.path.join(self.tmp, "b"), {"native": run["native"], "cvrun": run["cvrun"]},
                      errors=["crun"])
        r = compare(a, b)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("startup/crun failed", r.stdout)
        self.assertIn("NEW CANNOT PASS", r.stderr)

    def test_errored_repetitions_above_1pct_fail(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        ok = full_run(os.path.join(self.tmp, "ok"), self.rng, cvrun_errors=3)    # 3/303 = 0.99%
        bad = full_run(os.path.join(self.tmp, "bad"), self.rng, cvrun_errors=4)  # 4/304 = 1.3%
        r = compare(a, ok, "--require")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = compare(a, bad, "--require")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"RULE BROKEN: startup/cvrun: 4 of 304 repetitions errored")

    def test_one_launch_in_ten_failing_fails(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng, n=30)
        b = full_run(os.path.join(self.tmp, "b"), self.rng, n=27, cvrun_errors=3)
        r = compare(a, b)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("3 of 30 repetitions errored (10.0% > 1%)", r.stdout)

    def test_harness_overhead_above_1pct_fails(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        b = full_run(os.path.join(self.tmp, "b"), self.rng, null_fraction=0.02)
        r = compare(a, b)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("TOO HIGH", r.stdout)
        self.assertIn("RULE BROKEN: harness overhead", r.stdout)
        c = full_run(os.path.join(self.tmp, "c"), self.rng, null_fraction=0.002)
        r = compare(a, c)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"Harness overhead: .* = 0\.\d+% of native's .*: ok")

    def test_required_figures_missing_fail(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        b = full_run(os.path.join(self.tmp, "b"), self.rng, throughput=False)
        self.assertEqual(compare(a, b).returncode, 0, "without --require, a startup-only A/B is fine")
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("throughput:cvrun/native:int_ops_per_s", r.stdout)
        self.assertIn("NOT MEASURED in NEW", r.stdout)
        os.remove(os.path.join(b, "startup.json"))
        write_run(b, synthetic_run(self.rng))  # no null: the harness figure is missing
        write_run(b, throughput_run(self.rng), suite="throughput")
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("harness overhead: not measured", r.stdout)

    def test_missing_peer_skips_only_its_gates(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        run = synthetic_run(self.rng)
        del run["crun"]
        b = write_run(os.path.join(self.tmp, "b"), run)
        full = full_run(os.path.join(self.tmp, "full"), self.rng)
        shutil.copy(os.path.join(full, "throughput.json"), b)
        with open(os.path.join(full, "startup.json")) as f:
            doc = json.load(f)
        with open(os.path.join(b, "startup.json"), "w") as f:  # keep null, drop crun
            doc["benchmarks"] = [x for x in doc["benchmarks"] if "/crun" not in x["run_name"]]
            json.dump(doc, f)
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 3, "crun missing without --unavailable is a failure\n" + r.stdout)
        r = compare(a, b, "--require", "--unavailable", "crun")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SKIPPED: crun not installed on this host", r.stdout)
        r = compare(a, b, "--require", "--unavailable", "crun", "--inject-slowdown", "cvrun=1.25")
        self.assertEqual(r.returncode, 1, "the throughput gates still catch a cvrun slowdown\n" + r.stdout)
        self.assertRegex(r.stdout, r"throughput/cvrun/mode:cpu / native/mode:cpu \[1/int_ops_per_s\] .* REGRESSION")

    def test_teardown_regression_alone_fails(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        b = full_run(os.path.join(self.tmp, "b"), self.rng)
        path = os.path.join(b, "startup.json")
        with open(path) as f:
            doc = json.load(f)
        for x in doc["benchmarks"]:
            if x["run_name"] == "startup/cvrun":
                x["teardown_ms"] *= 1.4
        with open(path, "w") as f:
            json.dump(doc, f)
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"startup/cvrun / crun \[teardown_ms\] .* REGRESSION")
        self.assertRegex(r.stdout, r"startup/cvrun / crun \[real_time\] .* no significant change")

    def test_throughput_regression_fails(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        b = full_run(os.path.join(self.tmp, "b"), self.rng)
        write_run(b, throughput_run(self.rng, cvrun_speed=0.7), suite="throughput")
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"throughput/cvrun/mode:mem / native/mode:mem \[1/triad_gb_per_s\] .* REGRESSION")

    def test_a_figure_the_baseline_lacks_is_said_not_passed_silently(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng, throughput=False)
        b = full_run(os.path.join(self.tmp, "b"), self.rng)
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT IN BASELINE", r.stdout)
        self.assertIn("NOT gated: the baseline lacks them (re-record)", r.stderr)

    def test_density_rule_fails_when_cvrun_costs_double(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng, density=False)  # today's baseline
        b = full_run(os.path.join(self.tmp, "b"), self.rng)
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"rule: cvrun/crun in NEW +0\.\d+ \[[\d.]+, [\d.]+\]  ok")
        self.assertIn("vs baseline", r.stdout)
        self.assertIn("NOT IN BASELINE: not gated against it (re-record", r.stdout)
        r = compare(a, b, "--require", "--inject-density", "cvrun=2")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("FAILED: cvrun costs more than 1.2x crun per instance", r.stdout)
        self.assertIn("RULE BROKEN: density:cvrun/crun:fit_slope_mib", r.stdout)

    def test_density_regression_against_the_baseline(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng)
        b = full_run(os.path.join(self.tmp, "b"), self.rng)
        self.assertEqual(compare(a, b, "--require").returncode, 0)
        # 0.9 -> 1.17: under the 1.2 rule, but 30% above the baseline's ratio
        write_run(b, density_run(self.rng, cvrun_slope=0.585), suite="density")
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"vs baseline: cvrun/crun +0\.\d+ -> .* REGRESSION")

    def test_density_too_noisy_is_said_and_missing_density_fails(self):
        a = full_run(os.path.join(self.tmp, "a"), self.rng, density=False)
        b = full_run(os.path.join(self.tmp, "b"), self.rng)
        write_run(b, density_run(self.rng, noise=3.0), suite="density")
        r = compare(a, b, "--require")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT DECIDED: the interval straddles 1.2", r.stdout)
        c = full_run(os.path.join(self.tmp, "c"), self.rng, density=False)
        self.assertEqual(compare(a, c).returncode, 0, "without --require, no density is fine")
        r = compare(a, c, "--require")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("density:cvrun/crun:fit_slope_mib: not measured in NEW", r.stdout)

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

    def test_too_few_samples_fail(self):
        a = write_run(os.path.join(self.tmp, "a"), {"cvrun": [10, 11, 12], "crun": [20, 21, 22]})
        b = write_run(os.path.join(self.tmp, "b"), {"cvrun": [10, 11, 12], "crun": [20, 21, 22]})
        r = compare(a, b)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("too few samples", r.stdout)
        self.assertIn("RULE BROKEN", r.stdout)


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
    """scripts/check-regression with a stand-in cvbench that 'measures' fixture runs: each of its
    ways to fail, and the one way to skip (a peer's binary missing)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        rng = random.Random(11)
        self.base = full_run(os.path.join(self.tmp, "base"), rng, startup_from=RUN_A)
        self.new = full_run(os.path.join(self.tmp, "new"), rng, startup_from=RUN_B)
        self.fake = os.path.join(self.tmp, "cvbench")
        self.stand_in()

    def stand_in(self, before="", fixture=None):
        """A cvbench that copies FIXTURE/<suite>.json into --out; `before` runs first (sh)."""
        with open(self.fake, "w") as f:
            f.write("#!/bin/sh\n# stand-in for cvbench run\n"
                    "for a in \"$@\"; do case \"$prev\" in --out) out=$a;; --suite) suite=$a;; "
                    "--launchers) ls=$a;; esac; prev=$a; done\n" + before +
                    f"mkdir -p \"$out\" && cp {fixture or self.new}/$suite.json \"$out/\"\n")
        os.chmod(self.fake, os.stat(self.fake).st_mode | stat.S_IXUSR)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check(self, **env):
        e = dict(os.environ, CVB_CVBENCH=self.fake, CVB_BASELINE=self.base,
                 CVB_SMOKE_OUT=os.path.join(self.tmp, "smoke"))
        e.pop("CVB_INJECT_SLOWDOWN", None)
        e.update(env)
        return subprocess.run([os.path.join(SCRIPTS, "check-regression")], env=e,
                              capture_output=True, text=True, timeout=600)

    def test_clean_passes_with_power_check(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("power check: a 25% cvrun slowdown injected into this run is caught", r.stderr)
        self.assertIn("Harness overhead", r.stdout)
        self.assertRegex(r.stdout, r"throughput/cvrun/mode:cpu / native/mode:cpu .* no significant change")

    def test_injected_slowdown_fails_after_confirmation(self):
        r = self.check(CVB_INJECT_SLOWDOWN="cvrun=1.25")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("regression confirmed by two sweeps", r.stderr)

    def test_missing_peer_skips_its_gates_only(self):
        self.stand_in(before='case "$ls" in *crun*) echo "cvbench: launcher crun: runtime binary '
                             '\'crun\' not found" >&2; echo "cvbench: unavailable-launcher: crun" >&2; exit 3;; esac\n')
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SKIPPED: peer crun is not installed on this host", r.stderr)
        self.assertIn("SKIPPED: crun not installed on this host", r.stdout)
        self.assertRegex(r.stdout, r"throughput/cvrun/mode:mem / native/mode:mem .* no significant change")

    def test_missing_cvrun_fails(self):
        self.stand_in(before='echo "cvbench: launcher cvrun: runtime binary \'/x/cvrun\' not found" >&2\n'
                             'echo "cvbench: unavailable-launcher: cvrun" >&2; exit 3\n')
        r = self.check()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("FAILED: cvrun is not installed, and it is not a peer", r.stderr)
        self.assertNotIn("SKIPPED", r.stderr)

    def test_image_or_prepare_failure_fails(self):
        for msg in ("cvbench: image: workload binary /x/cvb-workload: No such file or directory",
                    "cvbench: launcher cvrun: prepare: cannot make the bundle"):
            self.stand_in(before=f'echo "{msg}" >&2; exit 2\n')
            r = self.check()
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(msg, r.stderr)
            self.assertIn("FAILED: the smoke run breaks the gate's rules or could not run", r.stderr)

    def test_one_cvrun_launch_in_ten_failing_fails(self):
        broken = full_run(os.path.join(self.tmp, "broken"), random.Random(3), startup_from=RUN_B,
                          cvrun_errors=33)
        self.stand_in(before="", fixture=broken)
        r = self.check()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("repetitions errored", r.stdout)
        self.assertNotIn("confirming", r.stderr, "a broken rule is not noise: no second sweep")

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
            for f in ("REPORT.md", "startup.png", "startup.svg", "startup_phases.png",
                      "claims_at_a_glance.png"):
                self.assertTrue(os.path.exists(os.path.join(run, f)), f)
            with open(os.path.join(run, "REPORT.md")) as f:
                md = f.read()
            self.assertIn("| 1 | [A container is a runtime instance of an image]"
                          "(#1-a-container-is-a-runtime-instance-of-an-image) | **Holds** |", md)
            self.assertTrue(os.path.exists(os.path.join(run, "claims_at_a_glance.svg")))
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
