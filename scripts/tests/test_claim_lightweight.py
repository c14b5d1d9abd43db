"""Claim 7, "an image is a lightweight, stand-alone package" (cvbench_analysis/claims/lightweight.py):
the bundle's size against a VM's kernel + initramfs, from image_inspect.json.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import unittest

from synthetic_runs import ClaimTest, write_suite

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import lightweight


class Lightweight(ClaimTest):
    def inspect(self, name, bundle, kernel, initramfs):
        d = self.run_dir(name)
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 3})
        with open(os.path.join(d, "image_inspect.json"), "w") as f:
            json.dump({"hash": "abc123", "oci_bundle": {"rootfs_bytes": bundle, "workload_bytes": 1,
                                                        "busybox_bytes": 1},
                       "vm": {"minimal": {"kernel_bytes": kernel, "initramfs_bytes": initramfs}}}, f)
        return d

    def test_lightweight_holds_and_does_not(self):
        v = self.verdict(lightweight, self.inspect("a", 5 << 20, 17 << 20, 5 << 20))
        self.assertEqual(v.outcome, V.HOLDS, v.numbers)
        self.assertIn("bundle / VM = 0.23", v.numbers)
        self.assertEqual((round(v.headline.value, 2), v.headline.rule), (0.23, "below"))
        self.assertEqual(v.headline.number(), "0.227x", "exact sizes: no interval")
        v = self.verdict(lightweight, self.inspect("b", 50 << 20, 17 << 20, 5 << 20))
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers)
        d = self.run_dir("c")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 3})
        self.assertEqual(self.verdict(lightweight, d).outcome, V.NOT_TESTED)


if __name__ == "__main__":
    unittest.main()
