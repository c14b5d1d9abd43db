"""Claim 5, "containers give higher resource density" (cvbench_analysis/claims/density.py): decided
from the fitted MiB per additional instance (the slope over N), never from the largest N alone.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

from synthetic_runs import ClaimTest, density_sweep

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import density
from cvbench_analysis.density_costs import per_instance_mib_samples
from cvbench_analysis.run import Run


class Density(ClaimTest):
    def sweep(self, name, slopes, **kw):
        return density_sweep(self.run_dir(name), self.rng, slopes, **kw)

    def test_density_holds_from_the_slopes_interval(self):
        d = self.sweep("dens-a", {"cvrun": 0.5, "crun": 0.6, "qemu/kernel:minimal": 90.0})
        v = self.verdict(density, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("fitted slope", v.rule)
        self.assertIn("densest container cvrun 0.5", v.numbers)
        self.assertRegex(v.numbers, r"instances per GiB \(from the slope\): cvrun 2,0\d\d \[")
        self.assertAlmostEqual(v.data["vm_slope"][0], 90.0, delta=0.5)
        h = v.headline  # VM / container slope: ~180x, its interval wholly above 1 (the rule)
        self.assertEqual((h.threshold, h.rule), ((1.0,), "above"))
        self.assertAlmostEqual(h.value, 180.0, delta=20.0)
        self.assertGreater(h.lo, 1.0)

    def test_density_does_not_hold_when_the_vm_is_leaner(self):
        d = self.sweep("dens-b", {"cvrun": 5.0, "qemu/kernel:minimal": 1.0}, noise=0.05)
        v = self.verdict(density, d)
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD)
        self.assertLess(v.headline.hi, 1.0)

    def test_density_inconclusive_when_intervals_overlap_or_too_few_points(self):
        d = self.sweep("dens-c", {"cvrun": 1.0, "qemu/kernel:minimal": 1.1}, noise=3.0)
        v = self.verdict(density, d)
        self.assertEqual(v.outcome, V.INCONCLUSIVE, v.numbers)
        d = self.sweep("dens-d", {"cvrun": 0.5, "qemu/kernel:minimal": 90.0}, ns=(1, 10), reps=1)
        self.assertEqual(self.verdict(density, d).outcome, V.INCONCLUSIVE,
                         "two points make a line but no interval")

    def test_density_uses_the_slope_not_the_largest_n(self):
        # A container launcher with a large fixed cost (a daemon, say): at N = 64 its cost / N
        # (31.7 MiB) is above the VM's (10.1 MiB), but each additional container costs 0.5 MiB
        # against the VM's 10: the claim is about the marginal cost, the slope.
        d = self.sweep("dens-e", {"cvrun": 0.5, "qemu/kernel:minimal": 10.0},
                       fixed={"cvrun": 2000.0, "qemu/kernel:minimal": 5.0}, noise=0.1)
        self.assertEqual(self.verdict(density, d).outcome, V.HOLDS)
        largest_n = per_instance_mib_samples(Run(d))
        self.assertGreater(min(largest_n["density/cvrun"]), max(largest_n["density/qemu/kernel:minimal"]))

    def test_density_not_tested_without_a_fit_for_both_kinds(self):
        d = self.sweep("dens-f", {"cvrun": 0.5, "crun": 0.6})
        v = self.verdict(density, d)
        self.assertEqual(v.outcome, V.NOT_TESTED, v.numbers)
        self.assertIn("cvrun", v.numbers)


if __name__ == "__main__":
    unittest.main()
