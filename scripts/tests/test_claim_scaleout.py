"""Claim 6, scale-out (cvbench_analysis/claims/scaleout.py): VMs and containers compared at the same
N only, holds / does not hold / not tested.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

from synthetic_runs import ClaimTest, noisy, write_suite

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import scaleout


class Scaleout(ClaimTest):
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
        v = self.verdict(scaleout, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("N = 16", v.rule)
        self.assertIn("N = 16", v.headline.what)
        self.assertAlmostEqual(v.headline.value, 30.0, delta=2.0)
        self.assertRegex(v.headline.text, r"^qemu \(minimal\) 1[12]\.\d s vs cvrun 0\.[34]\d* s$")

    def test_scaleout_does_not_hold_when_vms_are_faster(self):
        d = self.scaleout("so3", {"cvrun/n:16/start:concurrent": 4000.0,
                                  "qemu/kernel:minimal/n:16/start:concurrent": 400.0})
        self.assertEqual(self.verdict(scaleout, d).outcome, V.DOES_NOT_HOLD)

    def test_scaleout_without_a_common_n_is_not_tested(self):
        d = self.scaleout("so2", {"cvrun/n:100/start:concurrent": 2600.0,
                                  "qemu/kernel:minimal/n:16/start:concurrent": 12000.0})
        v = self.verdict(scaleout, d)
        self.assertEqual(v.outcome, V.NOT_TESTED, v.numbers)


if __name__ == "__main__":
    unittest.main()
