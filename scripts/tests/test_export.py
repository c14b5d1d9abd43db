"""scripts/export: each export has its format's published shape (checks in formats.py), carries
every counter with its dimensions, and the checks themselves catch broken documents.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import formats  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")
PY = sys.executable or "/usr/bin/python3"
RUN_A = os.path.join(HERE, "data", "clean-a")
sys.path.insert(0, SCRIPTS)
from cvbench_analysis import results as R  # noqa: E402


def export(*args):
    return subprocess.run([PY, os.path.join(SCRIPTS, "export"), *args], capture_output=True,
                          text=True, timeout=300)


def write_density_run(path, host=None):
    """A small density run with a dimension (n), several counters and one failed entry."""
    os.makedirs(path, exist_ok=True)
    bms = []
    for launcher, pss in (("native", 0.05), ("cvrun", 0.3)):
        for i in range(3):
            name = f"density/{launcher}/n:4"
            bms.append({"name": name, "run_name": name, "run_type": "iteration", "repetition_index": i,
                        "repetitions": 3, "iterations": 1, "threads": 1, "real_time": 40.0 + i,
                        "cpu_time": 9.0, "time_unit": "ms", "n": 4.0, "pss_mib": 4 * pss + i,
                        "pss_per_instance_mib": pss, "instances_per_gib": 1024 / pss})
    bms.append({"name": "density/runc/n:4", "run_name": "density/runc/n:4", "run_type": "iteration",
                "error_occurred": True, "error_message": "runc: not here", "real_time": 0})
    ctx = {"git_sha": "a" * 40, "hostname": "box", "kernel": "6.1.0", "cpu_model": "Test CPU, rev | 2",
           "cgroup_mode": "v2", "accelerator": "kvm", "date_utc": "2026-11-28T01:02:03Z",
           "repetitions": "3"}
    with open(os.path.join(path, "density.json"), "w") as f:
        json.dump({"context": ctx, "benchmarks": bms}, f)
    if host:
        with open(os.path.join(path, "host"), "w") as f:
            f.write(host + "\n")
    return path


class Exports(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cvb-export-test-")
        self.run_a = os.path.join(self.tmp, "run-a")
        shutil.copytree(RUN_A, self.run_a)
        self.dens = write_density_run(os.path.join(self.tmp, "fleet-x", "hosts", "node-2"), "node-2")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_bmf_has_the_published_shape_and_every_counter(self):
        out = os.path.join(self.tmp, "bmf")
        r = export("bmf", self.run_a, self.dens, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--testbed vm ", r.stdout)      # testbed = host (the run's hostname)
        self.assertIn("--testbed node-2 ", r.stdout)  # or the fleet's name for it
        self.assertIn("density/runc/n:4 failed, not exported: runc: not here", r.stderr)
        with open(os.path.join(out, "bmf-vm.json")) as f:
            doc = json.load(f)
        self.assertEqual(formats.check_bmf(doc), [])
        self.assertEqual(sorted(doc), ["startup/crun", "startup/cvrun", "startup/native"])
        # every counter, not only real_time
        self.assertEqual(sorted(doc["startup/cvrun"]),
                         ["create_ms", "ready_ms", "real_time_ms", "teardown_ms"])
        m = doc["startup/cvrun"]["real_time_ms"]
        self.assertLess(m["lower_value"], m["value"])
        self.assertLess(m["value"], m["upper_value"])
        with open(os.path.join(out, "bmf-node-2.json")) as f:
            dens = json.load(f)
        self.assertEqual(formats.check_bmf(dens), [])
        # n is a dimension (in the name), not a measure; bookkeeping is left out
        self.assertEqual(sorted(dens["density/cvrun/n:4"]),
                         ["cpu_time_ms", "instances_per_gib", "pss_mib", "pss_per_instance_mib",
                          "real_time_ms"])
        self.assertEqual(dens["density/cvrun/n:4"]["pss_mib"],
                         {"value": 2.2, "lower_value": 1.4, "upper_value": 3.0})

    def test_perfkit_samples_have_the_published_shape(self):
        out = os.path.join(self.tmp, "pk.ndjson")
        r = export("perfkit", self.tmp, "-o", out)  # a directory of runs, fleet host included
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            text = f.read()
        self.assertEqual(formats.check_perfkit(text), [])
        samples = [json.loads(line) for line in text.splitlines()]
        # one sample per raw measurement: 900 startup iterations x 4 counters + 6 x 5 density
        self.assertEqual(len(samples), 900 * 4 + 6 * 5)
        s = next(x for x in samples if x["test"] == "cvbench_density" and x["metric"] == "pss_mib")
        labels = formats.perfkit_labels(s["labels"])
        self.assertEqual(labels["host"], "node-2")
        self.assertEqual(labels["cpu_model"], "Test CPU, rev / 2")  # '|' kept out of values
        self.assertEqual(labels["dim_n"], "4")
        self.assertEqual(labels["accelerator"], "KVM")
        self.assertEqual(s["unit"], "MiB")
        self.assertEqual(s["timestamp"], 1795827723.0)
        self.assertEqual(len({x["sample_uri"] for x in samples}), len(samples))

    def test_csv_is_rfc4180_with_every_dimension(self):
        out = os.path.join(self.tmp, "s.csv")
        r = export("csv", self.run_a, self.dens, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, newline="") as f:
            text = f.read()
        self.assertEqual(formats.check_csv(text, ["host", "git_sha", "kernel", "cpu_model",
                                                  "cgroup_mode", "accelerator", "launcher", "suite",
                                                  "entry", "counter", "value", "unit"]), [])
        self.assertIn('"Test CPU, rev | 2"', text)  # a comma in a field is quoted

    def test_default_output_beside_the_run(self):
        r = export("bmf", self.run_a)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.run_a, "export", "bmf-vm.json")))

    def test_bad_input_is_named(self):
        r = export("csv", os.path.join(self.tmp, "nope"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope: not a directory", r.stderr)
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        r = export("bmf", empty)
        self.assertIn("no <suite>.json", r.stderr)


class ChecksCatchBrokenDocuments(unittest.TestCase):
    """The format checks must be able to fail."""

    def test_bmf(self):
        self.assertEqual(formats.check_bmf({"b": {"latency": {"value": 1.0, "lower_value": 0.5}}}), [])
        self.assertTrue(formats.check_bmf([]))
        self.assertTrue(formats.check_bmf({}))
        self.assertTrue(formats.check_bmf({"b": {"latency": {"lower_value": 1.0}}}))
        self.assertTrue(formats.check_bmf({"b": {"latency": {"value": "1"}}}))
        self.assertTrue(formats.check_bmf({"b": {"latency": {"value": float("nan")}}}))
        self.assertTrue(formats.check_bmf({"b": {"x" * 65: {"value": 1}}}))
        self.assertTrue(formats.check_bmf({"b": {"l": {"value": 1, "upper_value": 0.5}}}))

    def test_perfkit(self):
        good = {"metric": "m", "value": 1.0, "unit": "ms", "timestamp": 1.0, "test": "t",
                "labels": "|a:1|,|b:x:y|", "product_name": "p", "official": False, "owner": "o",
                "run_uri": "r", "sample_uri": "s"}
        self.assertEqual(formats.check_perfkit(json.dumps(good) + "\n"), [])
        for k in good:
            bad = dict(good)
            del bad[k]
            self.assertTrue(formats.check_perfkit(json.dumps(bad)), k)
        self.assertTrue(formats.check_perfkit(json.dumps(dict(good, value="1"))))
        self.assertTrue(formats.check_perfkit(json.dumps(dict(good, official="no"))))
        self.assertTrue(formats.check_perfkit(json.dumps(dict(good, labels="a:1,b:2"))))
        self.assertTrue(formats.check_perfkit(json.dumps(dict(good, labels="|a:x|y|"))))
        self.assertTrue(formats.check_perfkit("[1, 2]\n"))
        self.assertTrue(formats.check_perfkit(""))

    def test_csv(self):
        cols = ["host", "value"]
        self.assertEqual(formats.check_csv("host,value\r\nvm,1.5\r\n", cols), [])
        self.assertTrue(formats.check_csv("host,value\nvm,1.5\n", cols))          # LF records
        self.assertTrue(formats.check_csv("host,value\r\nvm,1.5,x\r\n", cols))    # extra field
        self.assertTrue(formats.check_csv("host,value\r\nvm,fast\r\n", cols))     # not a number
        self.assertTrue(formats.check_csv("host\r\nvm\r\n", cols))                # column missing
        self.assertTrue(formats.check_csv('host,value\r\n"v"m,1\r\n', cols))      # bad quoting


class Units(unittest.TestCase):
    def test_units_from_counter_names(self):
        cases = {("real_time", "s"): "s", ("create_ms", "ms"): "ms", ("pss_per_instance_mib", "ms"): "MiB",
                 ("instances_per_gib", "ms"): "1/GiB", ("fp_ops_per_s", "s"): "ops/s",
                 ("seq_read_mb_per_s", "s"): "MB/s", ("rr_p99_us", "s"): "us",
                 ("rr_per_s_ratio_to_native", "s"): "ratio", ("host_ready_to_exit_s", "s"): "s",
                 ("ready_at_ms_003", "ms"): "ms", ("rand_read_iops", "s"): "ops/s",
                 ("host_processes", "ms"): "count", ("mystery", "ms"): "number"}
        for (counter, tu), unit in cases.items():
            self.assertEqual(R.counter_unit(counter, tu), unit, counter)


if __name__ == "__main__":
    unittest.main()
