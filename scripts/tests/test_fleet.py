"""scripts/fleet's merge step without Ansible: what came back from each host is unpacked safely,
each host is gated against its own baseline only, failed hosts carry their reason, and FLEET.md
has a row per host. (tests/fleet_test.py runs the real thing over Ansible and SSH.)

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN_A = os.path.join(HERE, "data", "clean-a")
RUN_B = os.path.join(HERE, "data", "clean-b")


def load_fleet():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from cvbench_analysis import fleet
    return fleet


def pack(run_dir, tgz, slow_cvrun=1.0, evil=False):
    """A host's run as the playbook packs it; optionally with cvrun slowed down, or with a
    member that climbs out of the directory."""
    with open(os.path.join(run_dir, "startup.json")) as f:
        doc = json.load(f)
    for b in doc["benchmarks"]:
        if b.get("run_name", b["name"]).startswith("startup/cvrun"):
            b["real_time"] *= slow_cvrun
    data = json.dumps(doc).encode()
    with tarfile.open(tgz, "w:gz") as t:
        info = tarfile.TarInfo("./startup.json")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        if evil:
            info = tarfile.TarInfo("../escaped")
            info.size = 2
            t.addfile(info, io.BytesIO(b"x\n"))


def baseline(results, host, run_src, owner):
    """results/<name> holds a baseline run of host `owner`; results/baselines/<host> names it."""
    name = f"base-{owner}"
    if not os.path.exists(os.path.join(results, name)):
        shutil.copytree(run_src, os.path.join(results, name))
        with open(os.path.join(results, name, "host"), "w") as f:
            f.write(owner)
    os.makedirs(os.path.join(results, "baselines"), exist_ok=True)
    with open(os.path.join(results, "baselines", host), "w") as f:
        f.write(f"# test\n{name}\n")


class Merge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.F = load_fleet()
        cls.tmp = tempfile.mkdtemp(prefix="cvb-fleet-merge-test-")
        results = os.path.join(cls.tmp, "results")
        out = os.path.join(results, "fleet-t")
        hosts = os.path.join(out, "hosts")
        os.makedirs(hosts)
        pack(RUN_B, os.path.join(hosts, "a.tgz"))                       # clean: passes its gate
        baseline(results, "a", RUN_A, "a")
        pack(RUN_B, os.path.join(hosts, "b.tgz"), slow_cvrun=1.3)       # cvrun 30% slower
        baseline(results, "b", RUN_A, "b")
        with open(os.path.join(hosts, "c.failed"), "w") as f:           # its sweep failed
            json.dump({"task": "sweep", "msg": "non-zero return code", "rc": 2, "stderr": ""}, f)
        with open(os.path.join(hosts, "c.sweep.log"), "w") as f:
            f.write("sweep: startup over foo\ncvbench: unknown launcher foo\n")
        pack(RUN_B, os.path.join(hosts, "d.tgz"))                       # baseline of another host
        baseline(results, "d", RUN_A, "a")
        pack(RUN_B, os.path.join(hosts, "e.tgz"), evil=True)            # hostile archive
        ansible_log = ('[  9.1s] fatal: [f]: UNREACHABLE! => {"changed": false, "msg": "ssh: connect to host '
                       '192.0.2.9 port 22: No route to host", "unreachable": true}\n')
        meta = {"run": "fleet-t", "run_dir_rel": "results/fleet-t", "git_sha": "f" * 40, "controller_dirty": False,
                "date_utc": "2026-11-28T06:00:00Z", "argv": ["inv"], "sweep_args": []}
        cls.status = cls.F.merge(out, meta, ["a", "b", "c", "d", "e", "f"], ansible_log, results)
        cls.out, cls.results = out, results
        with open(os.path.join(out, "FLEET.md")) as f:
            cls.md = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_each_host_gated_against_its_own_baseline(self):
        self.assertEqual(self.status["a"]["gate"]["verdict"], "pass", self.status["a"])
        self.assertEqual(self.status["b"]["gate"]["verdict"], "REGRESSION", self.status["b"])
        self.assertTrue(os.path.exists(os.path.join(self.out, "hosts", "b", "compare.json")))

    def test_a_baseline_of_another_host_is_refused(self):
        g = self.status["d"]["gate"]
        self.assertEqual(g["verdict"], "not gated")
        self.assertIn("a run of host a: never pooled", g["why"])

    def test_failed_hosts_carry_their_reason(self):
        self.assertEqual(self.status["c"]["status"], "failed")
        self.assertIn("task 'sweep' failed (rc 2): non-zero return code", self.status["c"]["reason"])
        self.assertIn("cvbench: unknown launcher foo", self.status["c"]["reason"])
        self.assertIn("UNREACHABLE! ssh: connect to host 192.0.2.9 port 22: No route to host",
                      self.status["f"]["reason"])

    def test_hostile_archive_is_refused_and_nothing_escapes(self):
        self.assertEqual(self.status["e"]["status"], "failed")
        self.assertIn("refusing archive member '../escaped'", self.status["e"]["reason"])
        self.assertFalse(os.path.exists(os.path.join(self.out, "hosts", "escaped")))

    def test_report_has_a_row_per_host_and_hosts_side_by_side(self):
        for h in "abd":
            self.assertIn(f"| {h} | ok |", self.md)
        for h in "cef":
            self.assertIn(f"| {h} | **failed**:", self.md)
        self.assertIn("| b | ok |", self.md)
        self.assertIn("REGRESSION", self.md)
        self.assertIn("| entry | a | b | d |", self.md)
        self.assertIn("| cvrun / crun |", self.md)
        for f in ("fleet_startup.png", "fleet_ratios.png", "fleet.json"):
            self.assertTrue(os.path.exists(os.path.join(self.out, f)), f)
        with open(os.path.join(self.out, "hosts", "a", "host")) as f:
            self.assertEqual(f.read().strip(), "a")


if __name__ == "__main__":
    unittest.main()
