"""scripts/site (cvbench_analysis/website/): the site built from a results directory of fixture
runs has a page per run, host and entry; series are per host, never pooled; the gate's verdicts
are scripts/compare's own (an injected 30% cvrun slowdown is flagged, a clean pair is not); every
local link resolves (website/linkcheck.py, made to fail on a broken link); a directory the command
did not build is never replaced.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from synthetic_runs import HERE, SCRIPTS

from cvbench_analysis.website import linkcheck

PY = sys.executable or "/usr/bin/python3"
DATA = os.path.join(HERE, "data")


def copy_run(src, dst, date, slow_cvrun=1.0, host=None):
    """A fixture run under a new name and date; cvrun's times multiplied by slow_cvrun."""
    os.makedirs(dst)
    shutil.copy(os.path.join(src, "priority"), dst)
    with open(os.path.join(src, "startup.json")) as f:
        doc = json.load(f)
    doc["context"]["date_utc"] = date
    for b in doc["benchmarks"]:
        if b.get("run_name", b["name"]).startswith("startup/cvrun"):
            for k, v in list(b.items()):
                if k == "real_time" or (k.endswith("_ms") and isinstance(v, (int, float))):
                    b[k] = v * slow_cvrun
    with open(os.path.join(dst, "startup.json"), "w") as f:
        json.dump(doc, f)
    if host:
        with open(os.path.join(dst, "host"), "w") as f:
            f.write(host + "\n")


class Site(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.results = os.path.join(cls.tmp, "results")
        a, b = os.path.join(DATA, "clean-a"), os.path.join(DATA, "clean-b")
        copy_run(a, os.path.join(cls.results, "2026-01-01-a"), "2026-01-01T10:00:00Z")
        copy_run(b, os.path.join(cls.results, "2026-01-02-b"), "2026-01-02T10:00:00Z")
        copy_run(b, os.path.join(cls.results, "2026-01-03-slow"), "2026-01-03T10:00:00Z", slow_cvrun=1.3)
        copy_run(a, os.path.join(cls.results, "2026-01-02-other"), "2026-01-02T11:00:00Z", host="other")
        with open(os.path.join(cls.results, "2026-01-02-b", "REPORT.md"), "w") as f:
            f.write("# Report\n\n## The claims\n\n| # | Claim |\n|---|---|\n| 1 | [A](#1-a) |\n\n### 1. A\n\n"
                    "![startup](startup.png)\n")
        with open(os.path.join(cls.results, "2026-01-02-b", "startup.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")
        cls.site = os.path.join(cls.tmp, "site")
        cls.r = subprocess.run([PY, os.path.join(SCRIPTS, "site"), "--results", cls.results, "--out", cls.site],
                               capture_output=True, text=True, timeout=600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def read(self, rel):
        with open(os.path.join(self.site, rel), encoding="utf-8") as f:
            return f.read()

    def test_built_with_a_page_per_run_host_and_entry(self):
        self.assertEqual(self.r.returncode, 0, self.r.stderr)
        self.assertIn("site: ", self.r.stderr)
        for rel in ("index.html", "style.css", "gate.html", "hosts/vm.html", "hosts/other.html",
                    "runs/2026-01-02-b/index.html", "runs/2026-01-02-b/startup.png",
                    "entries/startup/startup-cvrun.html", "entries/startup/startup-cvrun--vm.svg",
                    "entries/startup/startup-cvrun--other.svg"):
            self.assertTrue(os.path.isfile(os.path.join(self.site, rel)), rel)
        self.assertFalse(os.path.exists(self.site + ".tmp"))
        run = self.read("runs/2026-01-02-b/index.html")
        self.assertIn('<h3 id="1-a">1. A</h3>', run)  # REPORT.md as HTML, its anchors GitHub's
        self.assertIn('<img src="startup.png" alt="startup">', run)

    def test_series_are_per_host_never_pooled(self):
        page = self.read("entries/startup/startup-cvrun.html")
        vm, other = page.index('id="host-vm"'), page.index('id="host-other"')
        self.assertLess(other, vm)  # hosts in name order, each its own section
        vm_part, other_part = page[vm:], page[other:vm]
        for run in ("2026-01-01-a", "2026-01-02-b", "2026-01-03-slow"):
            self.assertIn(run, vm_part)
            self.assertNotIn(run + "/", other_part)
        self.assertIn("2026-01-02-other", other_part)
        self.assertNotIn("2026-01-02-other", vm_part.split("Every counter")[0])

    def test_the_gate_flags_the_slowdown_as_scripts_compare_does(self):
        gate = self.read("gate.html")
        rows = [r for r in gate.split("<tr") if "startup:cvrun/crun:real_time" in r]
        slow = [r for r in rows if "2026-01-03-slow/index.html" in r.split("</td>")[1]]
        clean = [r for r in rows if "2026-01-02-b/index.html" in r.split("</td>")[1]]
        self.assertEqual(len(slow), 1, gate)
        self.assertIn("REGRESSION", slow[0])
        self.assertIn('class="regression"', slow[0])
        self.assertNotIn("REGRESSION", clean[0])
        # The same pair through scripts/compare: the same verdict.
        r = subprocess.run([PY, os.path.join(SCRIPTS, "compare"), os.path.join(self.results, "2026-01-02-b"),
                            os.path.join(self.results, "2026-01-03-slow"), "--gates", "startup:cvrun/crun:real_time"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("REGRESSION", r.stdout)
        page = self.read("entries/startup/startup-cvrun.html")
        self.assertIn("flagged by the gate", page)

    def test_every_local_link_resolves_and_a_broken_one_is_caught(self):
        self.assertEqual(linkcheck.check(self.site), [])
        broken = os.path.join(self.tmp, "broken")
        shutil.copytree(self.site, broken)
        with open(os.path.join(broken, "index.html"), "a") as f:
            f.write('<a href="runs/nowhere/index.html">x</a><a href="gate.html#no-such-id">y</a>'
                    '<img src="https://cdn.example.org/x.js">')
        problems = linkcheck.check(broken)
        self.assertEqual(len(problems), 3, problems)
        self.assertIn("no such file", problems[0])
        self.assertIn("no element with id 'no-such-id'", problems[1])
        self.assertIn("leaves the site", problems[2])

    def test_a_directory_it_did_not_build_is_not_replaced(self):
        mine = os.path.join(self.tmp, "precious")
        os.makedirs(mine)
        with open(os.path.join(mine, "notes.txt"), "w") as f:
            f.write("keep me")
        r = subprocess.run([PY, os.path.join(SCRIPTS, "site"), "--results", self.results, "--out", mine],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not a site scripts/site built", r.stderr)
        self.assertEqual(os.listdir(mine), ["notes.txt"])
        self.assertFalse(os.path.exists(mine + ".tmp"))
        r = subprocess.run([PY, os.path.join(SCRIPTS, "site"), "--results", os.path.join(self.tmp, "none")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a directory", r.stderr)


if __name__ == "__main__":
    unittest.main()
