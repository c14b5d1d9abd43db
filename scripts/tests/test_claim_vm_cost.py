"""Claim 4, "virtual machines are resource intensive" (cvbench_analysis/claims/vm_cost.py): start-up
and memory must both be above 2x; each half can make it fail or stay inconclusive.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

from synthetic_runs import ClaimTest, density_sweep, noisy, write_suite

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import vm_cost


class VmCost(ClaimTest):
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
        v = self.verdict(vm_cost, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("leanest VM qemu (minimal)", v.numbers)
        self.assertIn("above 2x", v.rule)

    def test_vm_cost_cannot_hold_on_half_the_rule(self):
        v = self.verdict(vm_cost, self.startup("h", 800.0))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, "memory not measured: " + v.numbers)
        self.assertIn("host memory per idle instance: not measured", v.numbers)
        self.assertIn("host memory per idle instance: not measured", v.headline.text)

    def test_vm_cost_does_not_hold(self):
        v = self.verdict(vm_cost, self.startup("b", 36.0))
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)

    def test_vm_cost_inconclusive(self):
        v = self.verdict(vm_cost, self.startup("c", 60.0, rel=0.4))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, v.numbers)

    def test_vm_cost_with_density_both_must_hold(self):
        d = self.startup("d", 800.0)
        write_suite(d, "density", {"cvrun/n:4": self.dens(1.0), "qemu/kernel:minimal/n:4": self.dens(1.5)})
        v = self.verdict(vm_cost, d)
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, "memory 1.5x < 2x: " + v.numbers)
        self.assertIn("host memory", v.headline.what, "the part that does not hold is the headline")
        self.assertLess(v.headline.hi, 2.0)
        self.assertIn("host memory per idle instance", v.numbers)

    def test_vm_cost_memory_from_the_fitted_slopes(self):
        # One repetition at the largest N (the default sweep's) gives no interval there; the slopes
        # over every N do: 90 vs 0.5 MiB per additional instance holds.
        d = self.startup("e", 800.0)
        density_sweep(d, self.rng, {"cvrun": 0.5, "qemu/kernel:minimal": 90.0}, reps=1)
        v = self.verdict(vm_cost, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("fitted slope", v.numbers)
        # The headline is the part nearer its threshold (start-up, ~27x, against memory's ~180x).
        h = v.headline
        self.assertEqual((h.threshold, h.rule), ((2.0,), "above"))
        self.assertIn("launch to READY", h.what)
        self.assertGreater(h.lo, 2.0)
        self.assertIn("host memory per additional idle instance: ", h.text)

    def test_vm_cost_memory_slopes_below_the_factor_do_not_hold(self):
        d = self.startup("f", 800.0)
        density_sweep(d, self.rng, {"cvrun": 1.0, "qemu/kernel:minimal": 1.2}, noise=0.01)
        v = self.verdict(vm_cost, d)
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)

    def test_not_tested_without_startup_or_density(self):
        d = self.run_dir("g")
        write_suite(d, "throughput", {"cvrun/mode:cpu": [{"int_ops_per_s": 1.0}] * 3})
        v = self.verdict(vm_cost, d)
        self.assertEqual(v.outcome, V.NOT_TESTED, v.numbers)
        self.assertIn("suites not run: startup, density", v.numbers)


if __name__ == "__main__":
    unittest.main()
