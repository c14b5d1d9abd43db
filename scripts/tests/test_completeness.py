"""A run stopped before its suite completed is read as partial, entry by entry, by the report and
the history database; a resumed one says its later repetitions were interleaved among themselves.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE)))
from cvbench_analysis import completeness  # noqa: E402
from cvbench_analysis.history import db as H  # noqa: E402


def record(path, state, planned, done, attempts=1, interrupted=None):
    """A startup suite file as cvbench writes it: planned = {entry: reps}, done = {entry: reps}."""
    bms = []
    for name, n in done.items():
        for i in range(n):
            bms.append({"name": name, "run_name": name, "run_type": "iteration", "repetition_index": i,
                        "repetitions": planned[name], "real_time": 10.0 + i, "time_unit": "ms",
                        "create_ms": 5.0, "attempt": 0 if i < n - 1 or attempts == 1 else 1})
    tries = [{"attempt": a, "started_utc": f"2026-12-07T10:0{a}:00Z"} for a in range(attempts)]
    if interrupted:
        tries[-1]["interrupted"] = interrupted
    doc = {"context": {"git_sha": "abc", "hostname": "vm", "date_utc": "2026-12-07T10:00:00Z"},
           "benchmarks": bms,
           "run": {"format": "cvbench-suite-record/1", "suite": "startup", "state": state,
                   "planned": [{"name": k, "repetitions": v, "time_unit": "ms"} for k, v in planned.items()],
                   "attempts": tries}}
    with open(path, "w") as f:
        json.dump(doc, f)


class Completeness(unittest.TestCase):
    def setUp(self):
        self.results = tempfile.mkdtemp(prefix="cvb-completeness-")
        self.run = os.path.join(self.results, "2026-12-07-vm-abc")
        os.makedirs(self.run)

    def tearDown(self):
        shutil.rmtree(self.results)

    def test_a_partial_run_lists_each_entry_short_of_its_plan(self):
        record(os.path.join(self.run, "startup.json"), "partial",
               {"startup/cvrun": 10, "startup/crun": 10, "startup/runc": 10},
               {"startup/cvrun": 10, "startup/crun": 4},
               interrupted="by SIGINT or SIGTERM during startup/crun")
        self.assertTrue(completeness.is_partial(self.run))
        text = "\n".join(completeness.render(self.run))
        self.assertIn("**This run is partial**", text)
        self.assertIn("startup: 14 of 30 planned repetitions recorded", text)
        self.assertIn("`startup/crun`: 4 of 10", text)
        self.assertIn("`startup/runc`: 0 of 10", text)
        self.assertNotIn("`startup/cvrun`", text)
        self.assertIn("during startup/crun", text)

    def test_a_whole_run_says_nothing_and_a_resumed_one_says_how_it_was_interleaved(self):
        record(os.path.join(self.run, "startup.json"), "complete", {"startup/cvrun": 3},
               {"startup/cvrun": 3})
        self.assertFalse(completeness.is_partial(self.run))
        self.assertEqual(completeness.render(self.run), [])
        record(os.path.join(self.run, "startup.json"), "complete", {"startup/cvrun": 3},
               {"startup/cvrun": 3}, attempts=2)
        text = "\n".join(completeness.render(self.run))
        self.assertIn("interleaved among themselves", text)
        self.assertIn("resumed 2026-12-07T10:01:00Z", text)

    def test_files_before_the_record_are_complete(self):
        with open(os.path.join(self.run, "startup.json"), "w") as f:
            json.dump({"context": {}, "benchmarks": []}, f)
        self.assertFalse(completeness.is_partial(self.run))

    def test_history_keeps_the_state_and_each_entrys_planned_and_recorded_repetitions(self):
        record(os.path.join(self.run, "startup.json"), "partial",
               {"startup/cvrun": 10, "startup/runc": 10}, {"startup/cvrun": 6})
        db_path = os.path.join(self.results, "history.sqlite")
        H.rebuild(db_path, self.results)
        db = sqlite3.connect(db_path)
        self.assertEqual(db.execute("SELECT state, attempts FROM runs").fetchall(), [("partial", 1)])
        rows = dict((e, (p, r)) for e, p, r in db.execute("SELECT entry, planned, recorded FROM entries"))
        self.assertEqual(rows, {"startup/cvrun": (10, 6), "startup/runc": (10, 0)})
        db.close()


if __name__ == "__main__":
    unittest.main()
