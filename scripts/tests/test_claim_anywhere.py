"""Claim 8, "a containerized app runs anywhere" (cvbench_analysis/claims/anywhere.py): the same
bundle completing every entry on every container runtime.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

from synthetic_runs import ClaimTest, write_suite

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import anywhere


class Anywhere(ClaimTest):
    def test_runs_anywhere(self):
        d = self.run_dir("a")
        ok = [{"ready_ms": 30.0}] * 3
        write_suite(d, "startup", {"cvrun": ok, "crun": ok, "runsc": ok})
        write_suite(d, "throughput", {"cvrun/mode:cpu": ok, "crun/mode:cpu": ok, "runsc/mode:cpu": ok})
        self.assertEqual(self.verdict(anywhere, d).outcome, V.HOLDS)
        write_suite(d, "throughput", {"cvrun/mode:net": ok, "crun/mode:net": ok}, errors=["runsc/mode:net"])
        v = self.verdict(anywhere, d)
        self.assertEqual(v.outcome, V.PARTLY, v.numbers)
        self.assertIn("failed: runsc (throughput/runsc/mode:net", v.numbers)
        self.assertEqual(v.headline.text, "2 of 3 container runtimes completed every entry "
                                          "(failed an entry: runsc)")
        write_suite(d, "throughput", {"cvrun/mode:cpu": ok, "crun/mode:cpu": ok, "runsc/mode:cpu": ok},
                    image_hash="other")
        self.assertEqual(self.verdict(anywhere, d).outcome, V.DOES_NOT_HOLD,
                         "a different image in one suite is not 'the same bundle'")

    def test_a_runtime_lacking_a_mode_is_listed_apart_from_a_failure(self):
        d = self.run_dir("c")
        ok = [{"ready_ms": 30.0}] * 3
        write_suite(d, "startup", {"cvrun": ok, "crun": ok, "runsc": ok})
        write_suite(d, "throughput", {"cvrun/mode:net": ok, "crun/mode:net": ok},
                    errors={"runsc/mode:net": "runsc cannot run mode net: no veth on this host"})
        v = self.verdict(anywhere, d)
        self.assertEqual(v.outcome, V.PARTLY, v.numbers)
        self.assertNotIn("failed:", v.numbers)
        self.assertIn("lacking a mode on this host (not a failure of the bundle): runsc "
                      "(throughput/runsc/mode:net: runsc cannot run mode net", v.numbers)
        self.assertEqual(v.headline.text, "2 of 3 container runtimes completed every entry "
                                          "(lacks a mode on this host: runsc)")
        self.assertIn("listed apart", v.rule)

    def test_not_tested_without_a_container(self):
        d = self.run_dir("b")
        write_suite(d, "startup", {"native": [{"ready_ms": 3.0}] * 3})
        self.assertEqual(self.verdict(anywhere, d).outcome, V.NOT_TESTED)


if __name__ == "__main__":
    unittest.main()
