"""scripts/report's fingerprint part (cvbench_analysis/fingerprint.py): the table "what each runtime did for the same bundle" and
the note beside each container/container startup ratio.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts")
PY = sys.executable or "/usr/bin/python3"


def load_report():
    sys.path.insert(0, SCRIPTS)
    from cvbench_analysis import fingerprint
    return fingerprint


WORKLOAD = "the container's init (the workload)"
# What a crun instance got (as recorded on the hybrid host), and cvrun with its known gaps.
CRUN = {"host_view": WORKLOAD, "ns.net": "own", "cgroup.devices": "own", "cgroup.memory": "own",
        "devices.list": "b *:* m;c *:* m;c 1:3 rwm", "net.lo": "up", "cap.eff": "00000000a80425fb",
        "self.net": "lo:up", "self.cap_eff": "00000000a80425fb"}
CVRUN = dict(CRUN, **{"cgroup.devices": "host", "devices.list": "a *:* rwm", "net.lo": "down",
                      "self.net": "lo:down"})
RUNSC = dict(CRUN, **{"host_view": "runsc's sandbox process as the host sees it",
                      "cap.eff": "0000000000240000", "devices.list": "a *:* rwm"})


def context(fps):
    ctx = {"git_sha": "0" * 40, "accelerator": "tcg: test", "kernel": "test",
           "launchers": ",".join(fps)}
    for name, fp in fps.items():
        for k, v in fp.items():
            ctx[f"fingerprint.{name}.{k}"] = v
    return ctx


def write_run(path, fps, medians):
    os.makedirs(path, exist_ok=True)
    benchmarks = []
    for name, ms in medians.items():
        for i in range(3):
            benchmarks.append({"name": f"startup/{name}", "run_name": f"startup/{name}",
                               "run_type": "iteration", "repetition_index": i, "real_time": ms,
                               "exit_ms": ms, "ready_ms": ms / 2, "time_unit": "ms"})
    with open(os.path.join(path, "startup.json"), "w") as f:
        json.dump({"context": context(fps), "benchmarks": benchmarks}, f)
    return path


class FakeRun:
    def __init__(self, fps, medians):
        self.context = context(fps)
        self.medians = medians


class FingerprintReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.R = load_report()

    def test_context_keys_become_per_launcher_maps(self):
        fps = self.R.fingerprints(context({"cvrun": CVRUN, "libvirt/kernel:minimal": {"vm.machine": "pc"}}))
        self.assertEqual(fps["cvrun"]["devices.list"], "a *:* rwm")
        self.assertEqual(fps["libvirt/kernel:minimal"], {"vm.machine": "pc"})

    def test_differences_are_named_and_alike_is_said(self):
        fps = {"cvrun": CVRUN, "crun": CRUN, "runc": dict(CRUN)}
        self.assertEqual(self.R.fingerprint_note(fps, "cvrun", "crun"),
                         "fingerprints differ in: cgroup devices, devices, lo, self: interfaces")
        self.assertEqual(self.R.fingerprint_note(fps, "crun", "runc"), "fingerprints alike")
        self.assertIn("no fingerprint recorded for runsc", self.R.fingerprint_note(fps, "crun", "runsc"))

    def test_a_sandbox_host_view_is_compared_on_the_workload_view_only(self):
        fps = {"crun": CRUN, "runsc": RUNSC}
        # runsc's cap.eff and devices.list describe its sandbox, not the workload: not a difference.
        self.assertEqual(self.R.fingerprint_note(fps, "crun", "runsc"), "fingerprints alike")
        fps["runsc"] = dict(RUNSC, **{"self.cap_eff": "0"})
        self.assertEqual(self.R.fingerprint_note(fps, "crun", "runsc"),
                         "fingerprints differ in: self: capabilities")

    def test_report_has_the_table_and_the_notes_beside_the_ratios(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = write_run(os.path.join(tmp, "run"), {"native": dict(CRUN, **{"ns.net": "host"}),
                                                       "cvrun": CVRUN, "crun": CRUN, "runc": CRUN},
                            {"native": 1.0, "cvrun": 5.0, "crun": 10.0, "runc": 20.0})
            r = subprocess.run([PY, os.path.join(SCRIPTS, "report"), run], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(run, "REPORT.md")) as f:
                md = f.read()
        self.assertIn("## What each runtime did for the same bundle", md)
        self.assertIn("| cvrun / crun | 0.500 | fingerprints differ in: cgroup devices, devices, lo, "
                      "self: interfaces |", md)
        self.assertIn("| crun / runc | 0.500 | fingerprints alike |", md)
        self.assertIn("| ≠ | key | native | cvrun | crun | runc |", md)
        self.assertIn("| **≠** | `net.lo` | up | **down** | up | up |", md)  # cvrun is the odd one
        self.assertIn("|  | `ns.net` | host | own | own | own |", md)  # native differs only
        self.assertIn("Alike for every launcher: `cap.eff` = 00000000a80425fb", md)

    def test_engine_launchers_get_a_column_and_a_ratio_each(self):
        # docker/runtime:runc and docker/runtime:cvrun are two launchers, not one "docker".
        with tempfile.TemporaryDirectory() as tmp:
            run = write_run(os.path.join(tmp, "run"),
                            {"runc": CRUN, "docker/runtime:runc": CRUN, "docker/runtime:cvrun": CVRUN},
                            {"runc": 20.0, "docker/runtime:runc": 40.0, "docker/runtime:cvrun": 30.0})
            r = subprocess.run([PY, os.path.join(SCRIPTS, "report"), run], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(run, "REPORT.md")) as f:
                md = f.read()
        self.assertIn("| ≠ | key | runc | docker/runtime:runc | docker/runtime:cvrun |", md)
        self.assertIn("| runc / docker/runtime:runc | 0.500 | fingerprints alike |", md)
        self.assertIn("| docker/runtime:cvrun / docker/runtime:runc | 0.750 | fingerprints differ in:", md)

    def test_a_run_without_fingerprints_says_so(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = write_run(os.path.join(tmp, "run"), {}, {"cvrun": 5.0, "crun": 10.0})
            r = subprocess.run([PY, os.path.join(SCRIPTS, "report"), run], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(run, "REPORT.md")) as f:
                md = f.read()
        self.assertIn("No instance fingerprint in this run's context", md)
        self.assertIn("| cvrun / crun | 0.500 | no fingerprint recorded for cvrun and crun |", md)


if __name__ == "__main__":
    unittest.main()
