"""scripts/plot's throughput chart (cvbench_analysis/plots/throughput.py) on a result file shaped as cvbench writes it: ratios computed
after the run (native centred on 1.0), net split into network path (native veth) and containment
(/ native veth), and a flagged disk figure shown as a flag, never as a bar.

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


def load_plot():
    sys.path.insert(0, SCRIPTS)
    from cvbench_analysis.plots import throughput
    return throughput


def entry(name, **counters):
    e = {"name": name, "run_name": name, "run_type": "iteration", "real_time": 1.0}
    e.update(counters)
    return e


REASON = ("9.0x native's O_DIRECT figure on the same device (limit 1.5x): served from a cache, "
          "not the device; O_DIRECT was accepted but not honoured")


def throughput_run():
    b = []
    for r in (0.9, 1.0, 1.1):
        b.append(entry("throughput/native/mode:net", stream_mb_per_s=1000 * r,
                       stream_mb_per_s_ratio_to_native=r))
        b.append(entry("throughput/native/mode:net/path:veth", stream_mb_per_s=800 * r,
                       stream_mb_per_s_ratio_to_native=0.8 * r, stream_mb_per_s_ratio_to_native_veth=r))
        b.append(entry("throughput/cvrun/mode:net", stream_mb_per_s=720,
                       stream_mb_per_s_ratio_to_native=0.72, stream_mb_per_s_ratio_to_native_veth=0.9))
        b.append(entry("throughput/native/mode:disk", seq_read_mb_per_s=100 * r, direct=1,
                       seq_read_mb_per_s_ratio_to_native=r))
        b.append(entry("throughput/runsc/mode:disk", seq_read_mb_per_s=900, direct=1,
                       seq_read_mb_per_s_ratio_to_native_flagged=9.0,
                       flags={"seq_read_mb_per_s": REASON}))
    return {"context": {"git_sha": "abc", "throughput_ratio_rule": "rule"}, "benchmarks": b}


class ThroughputChart(unittest.TestCase):
    def test_table_splits_net_and_keeps_flags_out_of_the_bars(self):
        plot = load_plot()
        iterations = throughput_run()["benchmarks"]
        for e in iterations:
            e["key"] = e["name"]
        table, flags = plot.throughput_table(iterations)
        net = table["net"]["stream_mb_per_s"]
        self.assertEqual(sorted(net), ["cvrun", "cvrun / native veth", "native", "native (veth)"])
        for label, want in (("native", [0.9, 1.0, 1.1]),
                            ("native (veth)", [0.72, 0.8, 0.88]),  # the network path
                            ("cvrun / native veth", [0.9, 0.9, 0.9])):  # containment
            for got, w in zip(net[label], want):
                self.assertAlmostEqual(got, w)
        disk = table["disk"]["seq_read_mb_per_s"]
        self.assertNotIn("runsc", disk)  # flagged: not a bar
        self.assertEqual(flags["disk"]["seq_read_mb_per_s"]["runsc"], REASON)

    def test_chart_is_drawn_with_the_flag(self):
        with tempfile.TemporaryDirectory() as run:
            with open(os.path.join(run, "throughput.json"), "w") as f:
                json.dump(throughput_run(), f)
            r = subprocess.run([PY, os.path.join(SCRIPTS, "plot"), run], capture_output=True,
                               text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("chart failed", r.stderr)
            self.assertTrue(os.path.exists(os.path.join(run, "throughput.png")))
            with open(os.path.join(run, "throughput.svg")) as f:
                svg = f.read()
            self.assertIn("FLAGGED", svg)


if __name__ == "__main__":
    unittest.main()
