"""scripts/check-regression against a deliberately broken cvrun: real sweeps (root), not fixtures.

Each case runs the real gate with a copy of cvbench in a scratch directory (cvbench finds cvrun and
cvb-workload beside itself) where cvrun is absent, does not run, or fails one `create` in ten, or
where cvb-workload is missing so the image cannot be built. Every case must FAIL the gate (exit 1)
for the stated reason; none may be read as "this machine cannot run it".

Run: ctest -R gate_broken_cvrun (labels integration, root), or
     CVB_BUILD_BIN=build/bin /usr/bin/python3 -m unittest -v gate_broken_cvrun_test  (in scripts/tests)
"""
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("CVB_BUILD_BIN", os.path.join(ROOT, "build", "bin"))


def missing_prerequisite():
    if os.geteuid() != 0:
        return "needs root (containers)"
    for b in ("cvbench", "cvrun", "cvb-workload"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            return f"{BIN}/{b} is not built"
    if not os.path.exists(os.path.join(ROOT, "results", "baseline")):
        return "no results/baseline to compare against"
    return None


class BrokenCvrunFailsTheGate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        if why:
            raise unittest.SkipTest(why)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cvb-gate-test-")
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        # A copy, not a link: cvbench looks for its siblings next to /proc/self/exe.
        shutil.copy2(os.path.join(BIN, "cvbench"), self.bin)
        os.symlink(os.path.join(BIN, "cvb-workload"), os.path.join(self.bin, "cvb-workload"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def cvrun_wrapper(self, body):
        path = os.path.join(self.bin, "cvrun")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\n# a deliberately broken cvrun (scripts/tests/gate_broken_cvrun_test.py)\n"
                    f"{body}\nexec {os.path.join(BIN, 'cvrun')} \"$@\"\n")
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)

    def gate(self):
        env = dict(os.environ, CVB_CVBENCH=os.path.join(self.bin, "cvbench"),
                   CVB_SMOKE_OUT=os.path.join(self.tmp, "smoke"), CVB_SMOKE_REPS="20",
                   CVB_SMOKE_TP_REPS="5")
        env.pop("CVB_INJECT_SLOWDOWN", None)
        r = subprocess.run([os.path.join(ROOT, "scripts", "check-regression")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=900)
        self.assertNotIn("SKIPPED: peer cvrun", r.stderr)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        return r

    def test_cvrun_absent_fails(self):
        r = self.gate()
        self.assertIn("unavailable-launcher: cvrun", r.stderr)
        self.assertIn("FAILED: cvrun is not installed, and it is not a peer", r.stderr)

    def test_image_that_cannot_be_built_fails(self):
        self.cvrun_wrapper("")
        os.remove(os.path.join(self.bin, "cvb-workload"))
        r = self.gate()
        self.assertIn("cvb-workload", r.stderr)
        self.assertIn("FAILED: the smoke run breaks the gate's rules or could not run", r.stderr)

    def test_cvrun_that_does_not_run_fails_check(self):
        self.cvrun_wrapper('echo "cvrun: broken on purpose" >&2; exit 1')
        r = self.gate()
        self.assertIn("does not run (`--version` failed)", r.stderr)
        self.assertIn("FAILED: the smoke run breaks the gate's rules or could not run", r.stderr)

    def test_one_create_in_ten_failing_fails(self):
        counter = os.path.join(self.tmp, "creates")
        self.cvrun_wrapper(
            'for a in "$@"; do if [ "$a" = create ]; then\n'
            f'  n=$(( $(cat {counter} 2>/dev/null || echo 0) + 1 )); echo $n > {counter}\n'
            '  if [ $((n % 10)) -eq 0 ]; then echo "cvrun: create $n failed on purpose" >&2; exit 1; fi\n'
            'fi; done')
        r = self.gate()
        self.assertRegex(r.stdout, r"RULE BROKEN: startup/cvrun: \d+ of \d+ repetitions errored")
        self.assertNotIn("confirming with a second", r.stderr)


if __name__ == "__main__":
    unittest.main()
