"""Claim 1, "a container is a runtime instance of an image" (cvbench_analysis/claims/image_instance.py):
holds when every container launcher started its instances from the bundle, does not hold when one
failed, not tested without the startup suite or a container.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

from synthetic_runs import ClaimTest, write_suite

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import image_instance


class ImageInstance(ClaimTest):
    def test_holds_when_every_container_launcher_ran(self):
        d = self.run_dir("a")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 4, "crun": [{"ready_ms": 40.0}] * 3,
                                   "native": [{"ready_ms": 3.0}] * 4})
        v = self.verdict(image_instance, d)
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("7 launches (cvrun 4, crun 3) of the one OCI bundle built from image `abc123`", v.numbers)
        self.assertEqual(v.headline.cell(), "7 launches by 2 container runtimes from one bundle, none failed")

    def test_does_not_hold_when_a_container_launcher_failed(self):
        d = self.run_dir("b")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 3}, errors=["runc"])
        v = self.verdict(image_instance, d)
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)
        self.assertIn("failed: runc", v.numbers)

    def test_not_tested_without_startup_or_containers(self):
        d = self.run_dir("c")
        write_suite(d, "throughput", {"cvrun/mode:cpu": [{"int_ops_per_s": 1.0}] * 3})
        self.assertEqual(self.verdict(image_instance, d).outcome, V.NOT_TESTED)
        d = self.run_dir("d")
        write_suite(d, "startup", {"native": [{"ready_ms": 3.0}] * 3})
        self.assertEqual(self.verdict(image_instance, d).outcome, V.NOT_TESTED)


if __name__ == "__main__":
    unittest.main()
