"""Claim 2 from the isolation suite (cvbench_analysis/claims/isolation.py) and its place in
scripts/report.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)

Fixtures are made here: isolation.json files in Google Benchmark's shape with the counters the
suite writes, so that each rule of the verdict can be made to fail on purpose.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")
sys.path.insert(0, SCRIPTS)
from cvbench_analysis import results as R  # noqa: E402
from cvbench_analysis.claims import isolation as I  # noqa: E402

PY = sys.executable or "/usr/bin/python3"
HOST = [c for c, k, _ in I.CHECKS if k == "host"]
PRIV = [c for c, k, _ in I.CHECKS if k == "privilege"]


def row(host, priv, kernel, **over):
    r = {c: host for c in HOST}
    r.update({c: priv for c in PRIV})
    r["host_kernel"] = kernel
    r.update({"processes_visible": 3, "fds_above_2": 0, "interfaces_visible": 1,
              "cap_eff_count": 3, "host_port_accepted": 0})
    r.update(over)
    return r


def write_run(d, rows, reps=1):
    benchmarks = []
    for label, counters in rows.items():
        for _ in range(reps if not isinstance(counters, list) else 1):
            for c in (counters if isinstance(counters, list) else [counters]):
                e = {"name": f"isolation/{label}/iterations:1/repeats:{reps}/manual_time",
                     "run_name": f"isolation/{label}/iterations:1/repeats:{reps}/manual_time",
                     "run_type": "iteration", "real_time": 5.0, "label": "host_file=ENOENT"}
                e.update(c)
                benchmarks.append(e)
    with open(os.path.join(d, "isolation.json"), "w") as f:
        json.dump({"context": {"git_sha": "abc", "kernel": "k"}, "benchmarks": benchmarks}, f)
    return R.load_run(d)


class ChecksMatchTheProbe(unittest.TestCase):
    def test_names_and_order_are_the_probes(self):
        with open(os.path.join(ROOT, "workload", "include", "cvb", "workload", "isolation.h")) as f:
            text = f.read()
        names = re.findall(r'\{"(\w+)", IsolationKind::k(\w+)', text)
        self.assertEqual([(n, k.lower()) for n, k in names], [(c, k) for c, k, _ in I.CHECKS])


class Claim2Verdict(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def verdict(self, rows, reps=1):
        return I.claim2_verdict(write_run(self.d, rows, reps))

    def test_isolated_container_and_vm_hold(self):
        v, rule, n = self.verdict({"native": row(1, 1, 1), "cvrun": row(0, 0, 1),
                                   "qemu/kernel:minimal": row(0, 1, 0)})
        self.assertTrue(v.startswith("Holds"), v)
        self.assertEqual(n["launchers"]["cvrun"]["verdict"], "isolated")
        # On its own kernel a VM's allowed mount is not the host's: privilege checks not counted.
        q = n["launchers"]["qemu/kernel:minimal"]
        self.assertEqual(q["verdict"], "isolated")
        self.assertTrue(q["own_kernel"])
        self.assertEqual(q["counted"], HOST)
        self.assertIn("native control", rule)

    def test_a_visible_marker_fails_the_launcher(self):
        v, _, n = self.verdict({"native": row(1, 1, 1), "cvrun": row(0, 0, 1),
                                "crun": row(0, 0, 1, host_file=1, device_open=1)})
        self.assertTrue(v.startswith("Partly"), v)
        self.assertEqual(n["launchers"]["crun"]["visible"], ["host_file", "device_open"])
        self.assertIn("not isolated: crun (host_file, device_open)", v)
        v2, _, _ = self.verdict({"native": row(1, 1, 1), "crun": row(1, 0, 1)})
        self.assertTrue(v2.startswith("Does not hold"), v2)

    def test_privilege_on_the_shared_kernel_counts(self):
        _, _, n = self.verdict({"native": row(1, 1, 1), "runc": row(0, 0, 1, mount_tmpfs=1)})
        self.assertEqual(n["launchers"]["runc"]["verdict"], "not isolated")
        # host_kernel unknown (-1): counted as shared, the conservative side.
        _, _, n2 = self.verdict({"native": row(1, 1, 1), "runsc": row(0, 1, -1)})
        self.assertEqual(n2["launchers"]["runsc"]["verdict"], "not isolated")

    def test_a_check_native_cannot_see_is_not_counted(self):
        v, _, n = self.verdict({"native": row(1, 1, 1, host_interface=-1, sys_write=0),
                                "cvrun": row(0, 0, 1, host_interface=-1, sys_write=1)})
        self.assertEqual(n["broken_checks"], ["host_interface", "sys_write"])
        self.assertEqual(n["launchers"]["cvrun"]["verdict"], "isolated")
        self.assertIn("not counted: host_interface, sys_write", v)

    def test_untested_mixed_or_missing_control_is_inconclusive(self):
        v, _, n = self.verdict({"native": row(1, 1, 1), "cvrun": row(0, 0, 1, host_port=-1)})
        self.assertTrue(v.startswith("Inconclusive"), v)
        self.assertEqual(n["launchers"]["cvrun"]["untested"], ["host_port"])
        mixed = {"native": row(1, 1, 1), "crun": [row(0, 0, 1), row(0, 0, 1, host_fd=1)]}
        _, _, n2 = self.verdict(mixed)
        self.assertEqual(n2["readings"]["crun"]["host_fd"], "mixed")
        self.assertEqual(n2["launchers"]["crun"]["verdict"], "inconclusive")
        v3, _, _ = self.verdict({"cvrun": row(0, 0, 1)})
        self.assertTrue(v3.startswith("Inconclusive (no native control"), v3)
        v4, _, _ = self.verdict({"native": row(1, 1, 1)})
        self.assertTrue(v4.startswith("Not tested"), v4)

    def test_no_suite_is_not_tested(self):
        v, _, n = I.claim2_verdict({})
        self.assertTrue(v.startswith("Not tested"))
        self.assertEqual(n["readings"], {})

    def test_report_prints_table_verdict_and_rule(self):
        write_run(self.d, {"native": row(1, 1, 1), "cvrun": row(0, 0, 1), "crun": row(0, 0, 1, host_fd=1)})
        r = subprocess.run([PY, os.path.join(SCRIPTS, "report"), self.d], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.d, "REPORT.md")) as f:
            md = f.read()
        claim = [l for l in md.splitlines() if l.startswith("| 2 |")][0]
        self.assertIn("| **Partly** | 1 of 2 launchers isolated on every counted check; visible elsewhere: "
                      "host_fd |", claim)  # the answer: verdict and its count
        section = md[md.index("### 2. Isolated from the host"):]
        self.assertIn("**Partly.** Rule: Per launcher", section)  # the rule, in the claim's section
        self.assertIn("not isolated: crun (host_fd)", section)
        self.assertIn("| check (1 = visible/allowed, 0 = isolated/denied) | native | crun | cvrun |", md)
        self.assertIn("| **verdict** | control | not isolated | isolated |", md)


if __name__ == "__main__":
    unittest.main()


class ConfinementProfiles(unittest.TestCase):
    """Claim 2 judges the default profile (docker-default, plain names); another profile's entries
    (<rt>/profile:spec-default) are shown beside it and never change the verdict."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_only_the_default_profile_is_judged(self):
        rows = {"native": row(1, 1, 1), "cvrun": row(0, 0, 1),
                "cvrun/profile:spec-default": row(0, 0, 1, no_seccomp=1)}
        v, _, n = I.claim2_verdict(write_run(self.d, rows))
        self.assertTrue(v.startswith("Holds"), v)
        self.assertEqual(list(n["launchers"]), ["cvrun"])
        self.assertEqual(n["beside"]["cvrun/profile:spec-default"]["visible"], ["no_seccomp"])
        # The other way round the verdict turns: the default profile without a filter fails.
        rows2 = {"native": row(1, 1, 1), "cvrun": row(0, 0, 1, no_seccomp=1),
                 "cvrun/profile:spec-default": row(0, 0, 1)}
        v2, _, _ = I.claim2_verdict(write_run(self.d, rows2))
        self.assertTrue(v2.startswith("Does not hold"), v2)

    def test_the_table_shows_the_other_profile_beside(self):
        write_run(self.d, {"native": row(1, 1, 1), "cvrun": row(0, 0, 1),
                           "cvrun/profile:spec-default": row(0, 0, 1, no_seccomp=1)})
        table = I.table(R.load_run(self.d))
        self.assertIn("| **verdict** | control | isolated | (not isolated; beside, not judged) |", table)


class ConfinementStartupSection(unittest.TestCase):
    def test_ratio_per_runtime_with_interval(self):
        from synthetic_runs import write_suite
        from cvbench_analysis import confinement as C
        from cvbench_analysis.run import Run
        with tempfile.TemporaryDirectory() as d:
            write_suite(d, "startup", {
                "cvrun": [{"real_time": 60.0 + i % 3} for i in range(10)],
                "cvrun/profile:spec-default": [{"real_time": 40.0 + i % 3} for i in range(10)],
                "crun": [{"real_time": 70.0} for _ in range(10)]})
            text = C.confinement_section(Run(d))
            self.assertIn("| cvrun | 61 ms | 41 ms | 1.49", text)
            self.assertIn("+20.0 ms | 10 / 10 |", text)
            self.assertNotIn("| crun |", text)  # one profile only: no ratio
            write_suite(d, "startup", {"crun": [{"real_time": 70.0} for _ in range(10)]})
            self.assertIn("one confinement profile only", C.confinement_section(Run(d)))

    def test_other_profiles_are_no_claims_container(self):
        from cvbench_analysis import launchers as L
        self.assertTrue(L.is_container("startup/cvrun"))
        self.assertFalse(L.is_container("startup/cvrun/profile:spec-default"))
        self.assertEqual(L.launcher("startup/cvrun/profile:spec-default"), "cvrun/profile:spec-default")
        self.assertEqual(L.launcher("startup/qemu/kernel:minimal"), "qemu")
