"""scripts/report's verdicts (scripts/verdicts.py): each claim's rule on synthetic run directories
that must come out as holds, does not hold, and inconclusive.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import importlib.machinery
import importlib.util
import json
import math
import os
import random
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts")
sys.path.insert(0, SCRIPTS)
import verdicts as V  # noqa: E402


def load_report():
    loader = importlib.machinery.SourceFileLoader("cvb_report", os.path.join(SCRIPTS, "report"))
    spec = importlib.util.spec_from_loader("cvb_report", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


REPORT = load_report()


def write_suite(run_dir, suite, entries, errors=(), image_hash="abc123"):
    """entries: {entry name without suite: [dict of fields per repetition]}; errors: names."""
    os.makedirs(run_dir, exist_ok=True)
    benchmarks = []
    for name, reps in entries.items():
        for i, fields in enumerate(reps):
            benchmarks.append({"name": f"{suite}/{name}", "run_name": f"{suite}/{name}",
                               "run_type": "iteration", "repetition_index": i, "real_time": 1.0,
                               **fields})
    for name in errors:
        benchmarks.append({"name": f"{suite}/{name}", "run_name": f"{suite}/{name}",
                           "run_type": "iteration", "error_occurred": True,
                           "error_message": f"{name} cannot run this here", "real_time": 0})
    with open(os.path.join(run_dir, f"{suite}.json"), "w") as f:
        json.dump({"context": {"image_hash": image_hash, "accelerator": "tcg: test"},
                   "benchmarks": benchmarks}, f)


def noisy(rng, base, rel, n):
    return [base * math.exp(rng.gauss(0, rel)) for _ in range(n)]


class Verdicts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.rng = random.Random(5)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_dir(self, name):
        return os.path.join(self.tmp, name)

    def verdict(self, fn, run_dir):
        return fn(REPORT.Run(run_dir))

    # claim 3: runs like a native process
    def throughput(self, name, ratio, rel=0.01, n=10):
        d = self.run_dir(name)
        cpu = lambda base: [{"int_ops_per_s": a, "fp_ops_per_s": b}  # noqa: E731
                            for a, b in zip(noisy(self.rng, base, rel, n), noisy(self.rng, base, rel, n))]
        write_suite(d, "throughput", {"native/mode:cpu": cpu(1e9), "cvrun/mode:cpu": cpu(1e9 * ratio)})
        return d

    def test_native_like_holds(self):
        v = self.verdict(REPORT.claim_native, self.throughput("a", 1.0))
        self.assertEqual(v.outcome, V.HOLDS, v.numbers + v.detail)
        self.assertIn("within 0.9-1.1", v.rule)
        self.assertRegex(v.detail, r"\| cvrun \| cpu \| int_ops_per_s \| [\d.]+ \[0\.9\d*, 1\.0\d*\] \| 10 / 10 \| Holds")

    def test_native_like_does_not_hold(self):
        v = self.verdict(REPORT.claim_native, self.throughput("b", 0.7))
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers + v.detail)

    def test_native_like_inconclusive_when_wide_or_few(self):
        v = self.verdict(REPORT.claim_native, self.throughput("c", 0.92, rel=0.15))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, v.numbers + v.detail)
        v = self.verdict(REPORT.claim_native, self.throughput("d", 1.0, n=2))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, "2 samples are not an interval: " + v.detail)

    def test_native_like_not_tested_without_throughput(self):
        d = self.run_dir("e")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 5})
        self.assertEqual(self.verdict(REPORT.claim_native, d).outcome, V.NOT_TESTED)

    # claim 4: VMs are resource intensive
    def startup(self, name, vm_ms, rel=0.05, n=10):
        d = self.run_dir(name)
        write_suite(d, "startup", {
            "cvrun": [{"ready_ms": x} for x in noisy(self.rng, 30.0, rel, n)],
            "crun": [{"ready_ms": x} for x in noisy(self.rng, 45.0, rel, n)],
            "qemu/kernel:minimal": [{"ready_ms": x} for x in noisy(self.rng, vm_ms, rel, n)]})
        return d

    def dens(self, mib):
        return [{"instances_per_gib": 1024.0 / x} for x in noisy(self.rng, mib, 0.02, 5)]

    def test_vm_cost_holds(self):
        d = self.startup("a", 800.0)
        write_suite(d, "density", {"cvrun/n:4": self.dens(1.0), "qemu/kernel:minimal/n:4": self.dens(80.0)})
        v = self.verdict(REPORT.claim_vm_cost, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("leanest VM qemu (minimal)", v.numbers)
        self.assertIn("above 2x", v.rule)

    def test_vm_cost_cannot_hold_on_half_the_rule(self):
        v = self.verdict(REPORT.claim_vm_cost, self.startup("h", 800.0))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, "memory not measured: " + v.numbers)
        self.assertIn("host memory per idle instance: not measured", v.numbers)

    def test_vm_cost_does_not_hold(self):
        v = self.verdict(REPORT.claim_vm_cost, self.startup("b", 36.0))
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)

    def test_vm_cost_inconclusive(self):
        v = self.verdict(REPORT.claim_vm_cost, self.startup("c", 60.0, rel=0.4))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, v.numbers)

    def test_vm_cost_with_density_both_must_hold(self):
        d = self.startup("d", 800.0)
        write_suite(d, "density", {"cvrun/n:4": self.dens(1.0), "qemu/kernel:minimal/n:4": self.dens(1.5)})
        v = self.verdict(REPORT.claim_vm_cost, d)
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, "memory 1.5x < 2x: " + v.numbers)
        self.assertIn("host memory per idle instance", v.numbers)

    def test_vm_cost_memory_from_the_fitted_slopes(self):
        # One repetition at the largest N (the default sweep's) gives no interval there; the slopes
        # over every N do: 90 vs 0.5 MiB per additional instance holds.
        d = self.startup("e", 800.0)
        dens = self.density_sweep("e", {"cvrun": 0.5, "qemu/kernel:minimal": 90.0}, reps=1)
        self.assertEqual(d, dens)
        v = self.verdict(REPORT.claim_vm_cost, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("fitted slope", v.numbers)

    def test_vm_cost_memory_slopes_below_the_factor_do_not_hold(self):
        d = self.startup("f", 800.0)
        self.density_sweep("f", {"cvrun": 1.0, "qemu/kernel:minimal": 1.2}, noise=0.01)
        v = self.verdict(REPORT.claim_vm_cost, d)
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)

    # claim 5: containers give higher density (from the fitted slope, not the largest N)
    def density_sweep(self, name, slopes, fixed=5.0, noise=0.3, ns=(1, 10, 32, 64), reps=2):
        """density.json with cost_mib = fixed + slope * N + noise for each {entry: slope}."""
        d = self.run_dir(name)
        entries = {}
        for base, slope in slopes.items():
            f = fixed.get(base, 5.0) if isinstance(fixed, dict) else fixed
            for n in ns:
                costs = [f + slope * n + self.rng.gauss(0, noise) for _ in range(reps)]
                # instances_per_gib as the suite writes it: from this N's cost / N
                entries[f"{base}/n:{n}"] = [{"n": n, "cost_mib": c, "instances_per_gib": 1024.0 * n / c}
                                            for c in costs]
        write_suite(d, "density", entries)
        return d

    def test_density_holds_from_the_slopes_interval(self):
        d = self.density_sweep("dens-a", {"cvrun": 0.5, "crun": 0.6, "qemu/kernel:minimal": 90.0})
        v = self.verdict(REPORT.claim_density, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("fitted slope", v.rule)
        self.assertIn("densest container cvrun 0.5", v.numbers)
        self.assertRegex(v.numbers, r"instances per GiB \(from the slope\): cvrun 2,0\d\d \[")
        self.assertAlmostEqual(v.data["vm_slope"][0], 90.0, delta=0.5)

    def test_density_does_not_hold_when_the_vm_is_leaner(self):
        d = self.density_sweep("dens-b", {"cvrun": 5.0, "qemu/kernel:minimal": 1.0}, noise=0.05)
        self.assertEqual(self.verdict(REPORT.claim_density, d).outcome, V.DOES_NOT_HOLD)

    def test_density_inconclusive_when_intervals_overlap_or_too_few_points(self):
        d = self.density_sweep("dens-c", {"cvrun": 1.0, "qemu/kernel:minimal": 1.1}, noise=3.0)
        v = self.verdict(REPORT.claim_density, d)
        self.assertEqual(v.outcome, V.INCONCLUSIVE, v.numbers)
        d = self.density_sweep("dens-d", {"cvrun": 0.5, "qemu/kernel:minimal": 90.0}, ns=(1, 10), reps=1)
        self.assertEqual(self.verdict(REPORT.claim_density, d).outcome, V.INCONCLUSIVE,
                         "two points make a line but no interval")

    def test_density_uses_the_slope_not_the_largest_n(self):
        # A container launcher with a large fixed cost (a daemon, say): at N = 64 its cost / N
        # (31.7 MiB) is above the VM's (10.1 MiB), but each additional container costs 0.5 MiB
        # against the VM's 10: the claim is about the marginal cost, the slope.
        d = self.density_sweep("dens-e", {"cvrun": 0.5, "qemu/kernel:minimal": 10.0},
                               fixed={"cvrun": 2000.0, "qemu/kernel:minimal": 5.0}, noise=0.1)
        self.assertEqual(self.verdict(REPORT.claim_density, d).outcome, V.HOLDS)
        largest_n = REPORT.per_instance_mib_samples(REPORT.Run(d))
        self.assertGreater(min(largest_n["density/cvrun"]), max(largest_n["density/qemu/kernel:minimal"]))

    def test_density_not_tested_without_a_fit_for_both_kinds(self):
        d = self.density_sweep("dens-f", {"cvrun": 0.5, "crun": 0.6})
        v = self.verdict(REPORT.claim_density, d)
        self.assertEqual(v.outcome, V.NOT_TESTED, v.numbers)
        self.assertIn("cvrun", v.numbers)

    # claim 6: scale-out, like for like
    def scaleout(self, name, entries_ms):
        d = self.run_dir(name)
        write_suite(d, "scaleout", {k: [{"all_ready_ms": v} for v in noisy(self.rng, ms, 0.02, 3)]
                                    for k, ms in entries_ms.items()})
        return d

    def test_scaleout_compares_vms_and_containers_at_the_same_n(self):
        # 4 distro guests are quicker than 16 containers' worth of nothing: the verdict must not
        # compare them. At N = 16 the VM takes 30x the container: holds, naming N = 16.
        d = self.scaleout("so", {"cvrun/n:16/start:concurrent": 400.0,
                                 "cvrun/n:100/start:concurrent": 2600.0,
                                 "qemu/kernel:minimal/n:16/start:concurrent": 12000.0,
                                 "qemu/kernel:distro/n:4/start:concurrent": 300.0})
        v = self.verdict(REPORT.claim_scaleout, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("N = 16", v.rule)

    def test_scaleout_without_a_common_n_is_not_tested(self):
        d = self.scaleout("so2", {"cvrun/n:100/start:concurrent": 2600.0,
                                  "qemu/kernel:minimal/n:16/start:concurrent": 12000.0})
        v = self.verdict(REPORT.claim_scaleout, d)
        self.assertEqual(v.outcome, V.NOT_TESTED, v.numbers)

    # claim 7: lightweight package
    def inspect(self, name, bundle, kernel, initramfs):
        d = self.run_dir(name)
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 3})
        with open(os.path.join(d, "image_inspect.json"), "w") as f:
            json.dump({"hash": "abc123", "oci_bundle": {"rootfs_bytes": bundle, "workload_bytes": 1,
                                                        "busybox_bytes": 1},
                       "vm": {"minimal": {"kernel_bytes": kernel, "initramfs_bytes": initramfs}}}, f)
        return d

    def test_lightweight_holds_and_does_not(self):
        v = self.verdict(REPORT.claim_lightweight, self.inspect("a", 5 << 20, 17 << 20, 5 << 20))
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("bundle / VM = 0.23", v.numbers)
        v = self.verdict(REPORT.claim_lightweight, self.inspect("b", 50 << 20, 17 << 20, 5 << 20))
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)
        d = self.run_dir("c")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 3})
        self.assertEqual(self.verdict(REPORT.claim_lightweight, d).outcome, V.NOT_TESTED)

    # claim 8: runs anywhere
    def test_runs_anywhere(self):
        d = self.run_dir("a")
        ok = [{"ready_ms": 30.0}] * 3
        write_suite(d, "startup", {"cvrun": ok, "crun": ok, "runsc": ok})
        write_suite(d, "throughput", {"cvrun/mode:cpu": ok, "crun/mode:cpu": ok, "runsc/mode:cpu": ok})
        self.assertEqual(self.verdict(REPORT.claim_anywhere, d).outcome, V.HOLDS)
        write_suite(d, "throughput", {"cvrun/mode:net": ok, "crun/mode:net": ok}, errors=["runsc/mode:net"])
        v = self.verdict(REPORT.claim_anywhere, d)
        self.assertEqual(v.outcome, V.PARTLY, v.numbers)
        self.assertIn("failed: runsc (throughput/runsc/mode:net", v.numbers)
        write_suite(d, "throughput", {"cvrun/mode:cpu": ok, "crun/mode:cpu": ok, "runsc/mode:cpu": ok},
                    image_hash="other")
        self.assertEqual(self.verdict(REPORT.claim_anywhere, d).outcome, V.DOES_NOT_HOLD,
                         "a different image in one suite is not 'the same bundle'")

    # the framework
    def test_combinators(self):
        H, N, I = V.HOLDS, V.DOES_NOT_HOLD, V.INCONCLUSIVE
        self.assertEqual(V.within(0.95, 1.05, 0.9, 1.1), H)
        self.assertEqual(V.within(0.5, 0.8, 0.9, 1.1), N)
        self.assertEqual(V.within(0.85, 1.05, 0.9, 1.1), I)
        self.assertEqual(V.above(2.5, 3, 2), H)
        self.assertEqual(V.above(1, 1.5, 2), N)
        self.assertEqual(V.above(1.5, 2.5, 2), I)
        self.assertEqual(V.all_of([H, I]), I)
        self.assertEqual(V.all_of([H, N, I]), N)
        self.assertEqual(V.summary([H, N]), V.PARTLY)
        self.assertEqual(V.summary([I, I]), I)
        self.assertEqual(V.summary([H, H]), H)

    def test_report_table_has_rule_and_numbers_for_every_claim(self):
        d = self.throughput("t", 1.0)
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0, "exit_ms": 31.0}] * 5})
        run = REPORT.Run(d)
        evaluated = V.evaluate(run)
        self.assertGreaterEqual(len(evaluated), 8)
        table = V.render_table(evaluated)
        self.assertIn("| # | Claim | Verdict | Rule | Numbers in this run |", table)
        for _, text, _, v in evaluated:
            self.assertTrue(v.rule and v.numbers, text)
            self.assertIn(v.outcome, (V.HOLDS, V.DOES_NOT_HOLD, V.PARTLY, V.INCONCLUSIVE, V.NOT_TESTED))

    def test_sweep_timings_and_image_sizes_are_not_suites(self):
        d = self.throughput("t", 1.0)
        with open(os.path.join(d, "sweep.json"), "w") as f:
            json.dump({"wall_s": 3, "steps": [{"step": "throughput", "wall_s": 3, "exit": 0}]}, f)
        with open(os.path.join(d, "image_inspect.json"), "w") as f:
            json.dump({"bundle": {"rootfs_bytes": 1}}, f)
        self.assertEqual(list(REPORT.Run(d).suites), ["throughput"])


class SweepRecordNotes(unittest.TestCase):
    """What sweep.json's scales say the sweep left out reaches REPORT.md with its reason."""

    def test_throughput_skips_are_explained(self):
        quick = "n=1,4 budget_mib=8192 kernels=minimal throughput_skipped=podman/.*|libvirt"
        notes = " ".join(REPORT.throughput_skip_notes(quick))
        self.assertIn("leaves podman out of throughput", notes)
        self.assertIn("leaves libvirt out of throughput", notes)
        default = " ".join(REPORT.throughput_skip_notes("kernels=distro,minimal throughput_skipped=podman/.*"))
        self.assertIn("podman", default)
        self.assertNotIn("libvirt", default)
        # sweep.json written before the key was renamed (the 8e12024 reference run)
        self.assertIn("podman", " ".join(REPORT.throughput_skip_notes("throughput_launchers=all-but-podman")))
        self.assertEqual(REPORT.throughput_skip_notes("n=1 budget_mib=8192"), [])

    def test_one_kernel_profile_is_said(self):
        self.assertIn("minimal kernel profile only", " ".join(REPORT.kernels_note("kernels=minimal")))
        self.assertEqual(REPORT.kernels_note("kernels=distro,minimal"), [])
        self.assertEqual(REPORT.kernels_note("n=1"), [])


class DensitySection(unittest.TestCase):
    """The density table: a VM's per-instance cost split into guest RAM / VMM / TCG cache beside the
    containers' (which have no split), and KSM entries as rows of their own."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    @staticmethod
    def points(per_instance, fixed=0.0, ns=(1, 4, 8)):
        """One repetition per N of cost = fixed + per_instance[field] * N for every field."""
        out = {}
        for n in ns:
            fields = {k: fixed + v * n for k, v in per_instance.items()}
            out[f"n:{n}"] = [{"n": n, **fields}]
        return out

    def test_vm_split_next_to_containers(self):
        d = os.path.join(self.tmp, "run")
        vm = {"cost_mib": 85.0, "user_mib": 84.0, "kernel_mib": 1.0, "guest_ram_mib": 42.0,
              "vmm_mib": 20.0, "tcg_cache_mib": 22.0, "memavailable_drop_mib": 90.0}
        ct = {"cost_mib": 0.3, "user_mib": 0.05, "kernel_mib": 0.25, "memavailable_drop_mib": 0.3}
        entries = {}
        for base, per in (("qemu/kernel:minimal", vm), ("qemu/kernel:minimal/ksm:on",
                                                          dict(vm, vmm_mib=10.0, user_mib=74.0, cost_mib=75.0)),
                          ("crun", ct)):
            for k, v in self.points(per).items():
                entries[f"{base}/{k}"] = v
        write_suite(d, "density", entries)
        table = REPORT.density_section(REPORT.Run(d))
        rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
        vm_row = [r for k, r in rows.items() if "qemu" in k and "ksm" not in k]
        ksm_row = [r for k, r in rows.items() if "ksm=on" in k]
        crun_row = [r for k, r in rows.items() if k.startswith("crun")]
        self.assertEqual(len(vm_row), 1, table)
        self.assertIn("| 42 / 20 / 22 MiB |", vm_row[0])
        self.assertEqual(len(ksm_row), 1, table)
        self.assertIn("| 42 / 10 / 22 MiB |", ksm_row[0])
        self.assertEqual(len(crun_row), 1, table)
        self.assertRegex(crun_row[0], r"\| 0\.05 MiB \| - \| 0\.25 MiB \|")
        self.assertIn("guest RAM touched / VMM / TCG translation cache", table)


if __name__ == "__main__":
    unittest.main()
