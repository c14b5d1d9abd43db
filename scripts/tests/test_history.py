"""scripts/history and its database (cvbench_analysis/history/db.py): every sample of every run is loaded
with its dimensions, the database follows the JSON, and the common questions are answered
without mixing hosts.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")
PY = sys.executable or "/usr/bin/python3"
sys.path.insert(0, SCRIPTS)
from cvbench_analysis.history import db as H  # noqa: E402


def write_startup(path, sha, date, times, hostname="vm", host=None, cpu="AMD EPYC", errors=()):
    """A startup run: times = {launcher: [real_time samples]} (create_ms = half of each)."""
    os.makedirs(path, exist_ok=True)
    bms = []
    for launcher, samples in times.items():
        for i, v in enumerate(samples):
            bms.append({"name": f"startup/{launcher}", "run_name": f"startup/{launcher}", "run_type": "iteration",
                        "repetition_index": i, "iterations": 1, "real_time": v, "create_ms": v / 2,
                        "time_unit": "ms"})
    for launcher in errors:
        bms.append({"name": f"startup/{launcher}", "run_type": "iteration", "error_occurred": True,
                    "error_message": f"{launcher}: binary missing", "real_time": 0})
    ctx = {"git_sha": sha * 8, "git_dirty": "no", "hostname": hostname, "kernel": "6.1.0", "cpu_model": cpu,
           "cpus_online": "2", "cgroup_mode": "v2", "accelerator": "kvm", "date_utc": date,
           "repetitions": str(len(next(iter(times.values()))))}
    with open(os.path.join(path, "startup.json"), "w") as f:
        json.dump({"context": ctx, "benchmarks": bms}, f)
    if host:
        with open(os.path.join(path, "host"), "w") as f:
            f.write(host)
    return path


def history(results, *args):
    return subprocess.run([PY, os.path.join(SCRIPTS, "history"), "--results", results, *args],
                          capture_output=True, text=True, timeout=300)


class History(unittest.TestCase):
    def setUp(self):
        self.res = tempfile.mkdtemp(prefix="cvb-history-test-")
        # host vm: two local runs at two commits; a fleet run with hosts a (same hostname vm!) and b
        write_startup(os.path.join(self.res, "run-1"), "1111", "2026-11-01T10:00:00Z",
                      {"native": [1.0, 1.1, 0.9], "cvrun": [10.0, 11.0, 9.0], "crun": [20.0, 21.0, 19.0]})
        write_startup(os.path.join(self.res, "run-2"), "2222", "2026-11-02T10:00:00Z",
                      {"native": [1.0] * 3, "cvrun": [12.0] * 3, "crun": [20.0] * 3}, errors=["runc"])
        fleet = os.path.join(self.res, "fleet-x", "hosts")
        write_startup(os.path.join(fleet, "a"), "3333", "2026-11-03T10:00:00Z",
                      {"cvrun": [5.0] * 3, "crun": [10.0] * 3}, host="a")
        write_startup(os.path.join(fleet, "b"), "3333", "2026-11-03T10:00:01Z",
                      {"cvrun": [9.0] * 3, "crun": [10.0] * 3}, host="b", cpu="Intel Xeon")
        # what the runtimes were given (bench's ArtefactRecorder): JSON, but not results
        os.makedirs(os.path.join(fleet, "b", "instances", "cvrun"))
        with open(os.path.join(fleet, "b", "instances", "cvrun", "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2"}, f)

    def tearDown(self):
        shutil.rmtree(self.res)

    def test_every_sample_with_its_dimensions(self):
        db = H.open_db(self.res, quiet=True)
        n = db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        self.assertEqual(n, (9 + 9 + 6 + 6) * 2)  # every iteration, real_time and create_ms
        row = db.execute("SELECT * FROM sample_view WHERE host = 'b' AND counter = 'create_ms' LIMIT 1").fetchone()
        self.assertEqual((row["cpu_model"], row["kernel"], row["cgroup_mode"], row["accelerator"], row["launcher"],
                          row["suite"], row["git_sha"][:4], row["fleet"], row["unit"], row["value"]),
                         ("Intel Xeon", "6.1.0", "v2", "KVM", "cvrun", "startup", "3333", "fleet-x", "ms", 4.5))
        err = db.execute("SELECT error FROM entries WHERE entry = 'startup/runc'").fetchone()[0]
        self.assertEqual(err, "runc: binary missing")
        self.assertEqual(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0], 4)
        hosts = [r[0] for r in db.execute("SELECT DISTINCT host FROM runs ORDER BY host")]
        self.assertEqual(hosts, ["a", "b", "vm"])  # the fleet's name beats the shared hostname

    def test_database_follows_the_json(self):
        db_path = os.path.join(self.res, "history.sqlite")
        H.open_db(self.res, quiet=True).close()
        write_startup(os.path.join(self.res, "run-3"), "4444", "2026-11-04T10:00:00Z", {"cvrun": [1.0]})
        db = H.open_db(self.res, quiet=True)
        self.assertEqual(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0], 5)
        db.close()
        shutil.rmtree(os.path.join(self.res, "run-3"))
        self.assertEqual(H.open_db(self.res, quiet=True).execute("SELECT COUNT(*) FROM runs").fetchone()[0], 4)
        # a corrupt database file is rebuilt, not trusted
        with open(db_path, "w") as f:
            f.write("not a database")
        self.assertEqual(H.open_db(self.res, quiet=True).execute("SELECT COUNT(*) FROM runs").fetchone()[0], 4)
        r = history(self.res, "rebuild")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 run directories", r.stdout)
        self.assertIsNotNone(sqlite3.connect(db_path).execute("SELECT value FROM meta").fetchone())

    def test_series_across_commits_on_one_host(self):
        r = history(self.res, "series", "startup/cvrun", "--host", "vm", "--chart", os.path.join(self.res, "s.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.startswith("| 2026")]
        self.assertEqual(len(lines), 2)
        self.assertIn("| 1111111 ", lines[0])
        self.assertIn("| 9.967 ", lines[0])  # typical of 9, 10, 11: their geometric mean (3 samples: no trim)
        self.assertIn("| 12 ", lines[1])
        self.assertTrue(os.path.exists(os.path.join(self.res, "s.png")))
        r = history(self.res, "series", "startup/cvrun", "--host", "vm", "--over", "startup/crun")
        self.assertIn("| 0.4987 ", r.stdout)
        self.assertIn("| 0.6 ", r.stdout)

    def test_series_never_mixes_hosts(self):
        r = history(self.res, "series", "startup/cvrun")
        self.assertEqual(r.returncode, 2)
        self.assertIn("several hosts (a, b, vm)", r.stderr)
        r = history(self.res, "series", "startup/nothing")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no run has entry", r.stderr)
        r = history(self.res, "series", "startup/cvrun", "--host", "zz")
        self.assertEqual(r.returncode, 2)

    def test_latest_per_host_and_ratio_across_hosts(self):
        r = history(self.res, "latest")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [l for l in r.stdout.splitlines() if l.startswith(("| a ", "| b ", "| vm "))]
        self.assertEqual([l.split("|")[1].strip() for l in rows], ["a", "b", "vm"])
        self.assertIn("run-2", rows[2])  # the latest of vm's two runs
        r = history(self.res, "ratio", "cvrun", "crun", "--chart", os.path.join(self.res, "r.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        ratios = {l.split("|")[1].strip(): l.split("|")[-2].strip() for l in r.stdout.splitlines()
                  if l.startswith(("| a ", "| b ", "| vm "))}
        self.assertEqual(ratios, {"a": "0.500", "b": "0.900", "vm": "0.600"})
        r = history(self.res, "ratio", "cvrun", "crun", "--all")
        self.assertEqual(len([l for l in r.stdout.splitlines() if l.startswith("| vm ")]), 2)
        r = history(self.res, "ratio", "cvrun", "runsc")
        self.assertEqual(r.returncode, 2)

    def test_sql(self):
        r = history(self.res, "sql", "SELECT host, COUNT(*) AS n FROM sample_view GROUP BY host ORDER BY host")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("| vm   | 36 |", r.stdout)
        r = history(self.res, "sql", "SELECT nope FROM runs")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no such column: nope", r.stderr)


if __name__ == "__main__":
    unittest.main()
