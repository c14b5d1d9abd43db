"""The report's overview figure "claims at a glance" (cvbench_analysis/plots/overview.py): one row
per claim, a ratio with its interval and threshold where the claim has one, its words where not,
and the verdict; the conditions underneath.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import math
import os
import unittest

from synthetic_runs import ClaimTest, noisy, write_suite

from cvbench_analysis import claims
from cvbench_analysis import verdicts as V
from cvbench_analysis.plots.overview import plot_overview
from cvbench_analysis.run import Run


class Overview(ClaimTest):
    def test_every_claim_has_its_row(self):
        d = self.run_dir("r")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": x} for x in noisy(self.rng, 30.0, 0.05, 10)],
                                   "qemu/kernel:minimal": [{"ready_ms": x} for x in noisy(self.rng, 900.0, 0.05, 10)]})
        run = Run(d)
        evaluated = claims.evaluate(run)
        self.assertEqual(plot_overview(d, {"git_sha": "f" * 40, "kernel": "k"}, evaluated),
                         "claims_at_a_glance.png")
        for ext in ("png", "svg"):
            self.assertGreater(os.path.getsize(os.path.join(d, f"claims_at_a_glance.{ext}")), 10000)
        with open(os.path.join(d, "claims_at_a_glance.svg")) as f:
            svg = f.read()
        for i, text, _, v in evaluated:
            self.assertIn(f"{i}. {text}", svg)
        # Claim 4 has a ratio (start-up) against 2x; claim 1 only words; claim 5 was not tested.
        h = evaluated[3][3].headline
        self.assertTrue(h.has_ratio() and not math.isnan(h.lo))
        self.assertIn("holds above 2x", svg)
        self.assertIn("launches by 1 container runtimes", svg)
        self.assertEqual(evaluated[4][3].outcome, V.NOT_TESTED)
        self.assertIn("Not tested", svg)
        self.assertIn("git fffffff", svg)  # the provenance line


if __name__ == "__main__":
    unittest.main()
